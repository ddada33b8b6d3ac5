"""The shared cast: a dermatologist, a front-desk user and two patients, so
every access test has an outsider (and rosa, whose record says Spanish);
and `frozen`, the one fixed instant."""

import os
import subprocess
import sys
import uuid
from urllib.parse import urlsplit

import dj_database_url
import psycopg
import pytest
import time_machine

from deploy.drill import chromium as chromium_flags
from portal import roles
from tests import axe, workers
from tests.factories import NOON_UTC, PatientFactory, StaffFactory


@pytest.fixture
def derm(db):
    return StaffFactory(username="dana", role=roles.DERMATOLOGIST)


@pytest.fixture
def desk(db):
    return StaffFactory(username="frank", role=roles.FRONT_DESK)


@pytest.fixture
def alice(db, derm):
    return PatientFactory(username="alice", chart_number="C-1001", dermatologist=derm, email_consent=True)


@pytest.fixture
def bob(db, derm):
    return PatientFactory(username="bob", chart_number="C-1002", dermatologist=derm, email_consent=True)


@pytest.fixture
def rosa(db, derm):
    """A patient whose record says Spanish."""
    return PatientFactory(
        username="rosa", chart_number="C-1003", dermatologist=derm, preferred_language="es", email_consent=True
    )


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice.user)
    return client


@pytest.fixture
def rosa_client(client, rosa):
    client.force_login(rosa.user)
    return client


@pytest.fixture
def derm_client(client, derm):
    client.force_login(derm)
    return client


@pytest.fixture
def desk_client(client, desk):
    client.force_login(desk)
    return client


@pytest.fixture
def frozen():
    """Time stopped at NOON_UTC (TODAY in New York); the test may move it with `frozen.move_to(...)`.

    Ask for it before any login (`pytest.mark.usefixtures("frozen")` does), so sessions are not
    already expired. Rate-limit tests need it too: django-ratelimit's windows start at a point in
    the hour that depends on the key, so a test on the real clock could straddle one and see its
    count reset.
    """
    with time_machine.travel(NOON_UTC, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _english_until_asked():
    """Each test starts in English: a request for a Spanish patient leaves Spanish active in the thread."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium per test module; each test opens its own context on it."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(chromium_flags.EXECUTABLE):
        pytest.skip("Debian's chromium is not installed")
    # Playwright's sync API runs an event loop in this thread while the browser is open; the ORM calls
    # in the tests (and the database flush after each) are still synchronous.
    with pytest.MonkeyPatch.context() as mp, sync_api.sync_playwright() as playwright:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=chromium_flags.EXECUTABLE, args=chromium_flags.ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    """A phone-sized page."""
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


@pytest.fixture(params=[390, 1280], ids=["phone", "desktop"])
def axe_page(request, chromium):
    assert axe.AXE_JS.exists(), f"{axe.AXE_JS} is missing: run `make install` (npm ci)"
    width = request.param
    phone = width < 768
    # add_script_tag injects axe as an inline <script>, which our Content-Security-Policy (script-src 'self')
    # rightly refuses; only these test contexts bypass the policy, so the pages themselves are unchanged.
    context = chromium.new_context(
        viewport={"width": width, "height": 844 if phone else 900},
        is_mobile=phone,
        has_touch=phone,
        locale="en-US",
        bypass_csp=True,
    )
    yield context.new_page()
    context.close()


@pytest.fixture
def database_url():
    """A fresh, empty database of the kind the suite runs on."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield None  # worker_env uses a SQLite file in tmp_path
        return
    config = dj_database_url.parse(url)
    server = {"host": config["HOST"], "port": config["PORT"] or 5432, "user": config["USER"]}
    if config["PASSWORD"]:
        server["password"] = config["PASSWORD"]
    name = f"reminder_faults_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlsplit(url)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def worker_env(tmp_path, database_url):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_TEST_NAME")}
    env.update(
        DEBUG="1",
        DATABASE_URL=database_url or f"sqlite:///{tmp_path / 'faults.sqlite3'}",
        VAR_DIR=str(tmp_path / "var"),
        EMAIL_BACKEND="tests.slow_mail.SlowFileBackend",
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
        # Small leases, so two workers share the peak and a kill lands inside a lease.
        REMINDER_BATCH_SIZE="20",
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=workers.ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [sys.executable, "-c", workers.MAKE_PATIENTS, str(workers.PATIENTS)], cwd=workers.ROOT, env=env, check=True
    )
    return env
