"""The shared cast: a dermatologist, a front-desk user and two patients, so
every access test has an outsider."""

import datetime as dt
import os

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from portal import roles
from portal.models import Patient

PASSWORD = "correct-horse-battery-9"


def make_staff(username, group_name):
    user = get_user_model().objects.create_user(
        username, f"{username}@example.org", PASSWORD, first_name=username.title(), is_staff=True
    )
    user.groups.add(Group.objects.get(name=group_name))
    return user


def make_patient(username, chart, *, dermatologist=None, **fields):
    user = get_user_model().objects.create_user(
        username, f"{username}@example.org", PASSWORD, first_name=username.title(), last_name="Tester"
    )
    fields.setdefault("date_of_birth", dt.date(1990, 1, 1))
    fields.setdefault("time_zone", "America/New_York")
    return Patient.objects.create(user=user, chart_number=chart, dermatologist=dermatologist, **fields)


@pytest.fixture
def derm(db):
    return make_staff("dana", roles.DERMATOLOGIST)


@pytest.fixture
def desk(db):
    return make_staff("frank", roles.FRONT_DESK)


@pytest.fixture
def alice(db, derm):
    return make_patient("alice", "C-1001", dermatologist=derm, email_consent=True)


@pytest.fixture
def bob(db, derm):
    return make_patient("bob", "C-1002", dermatologist=derm, email_consent=True)


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice.user)
    return client


@pytest.fixture
def derm_client(client, derm):
    client.force_login(derm)
    return client


@pytest.fixture
def desk_client(client, desk):
    client.force_login(desk)
    return client


# A fixed instant for rate-limit tests: django-ratelimit's windows start at a point in the hour
# that depends on the key, so a test on the real clock could straddle one and see its count reset.
RATE_WINDOW_SAFE = "2027-03-10T17:00:00Z"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


# Browser tests drive Debian's Chromium (no browser download is possible here).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium per test module; each test opens its own context on it."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists("/usr/bin/chromium"):
        pytest.skip("Debian's chromium is not installed")
    # Playwright's sync API runs an event loop in this thread while the browser is open; the ORM calls
    # in the tests (and the database flush after each) are still synchronous.
    with pytest.MonkeyPatch.context() as mp, sync_api.sync_playwright() as playwright:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    """A phone-sized page."""
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()
