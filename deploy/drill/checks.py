"""The production drill's checks (deploy/drill.sh runs them; each prints why it failed and exits 1).

Every request goes through nginx over https to `--base` (https://portal.example.org:<port>),
connecting to 127.0.0.x with the portal's name in the Host header and SNI, as a browser
would after DNS. Checks that look in the database run with the drill's settings
(the environment deploy/drill.sh exports), like any manage.py command.

    checks.py settings-listed ENV_FILE SETTINGS.py GUNICORN_CONF.py
    checks.py redirect --http-port P --host H
    checks.py static --base URL --app-log FILE
    checks.py health --base URL
    checks.py journey --base URL
    checks.py forwarded --base URL --app-log FILE
    checks.py reload --base URL --master PID
    checks.py reminders --slot morning|evening --patients N --expect-each K --mail-dir DIR --worker-logs LOG...
    checks.py compare-databases URL_A URL_B
"""

import argparse
import collections
import datetime as dt
import email
import http.client
import json
import os
import re
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import chromium  # deploy/drill/chromium.py, beside this script

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "demo-pass-2026"
DRILL_DOMAIN = "drill.example.org"


class Failed(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Failed(message)


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()


# --- HTTP through nginx ------------------------------------------------------


class Client:
    """A tiny cookie-keeping https client bound to one local source address."""

    def __init__(self, base: str, *, source: str = "127.0.0.1"):
        parts = urllib.parse.urlsplit(base)
        self.base, self.host, self.port, self.source = base, parts.hostname, parts.port or 443, source
        self.cookies: dict[str, str] = {}
        self.set_cookie_headers: list[str] = []
        # The drill's certificate is self-signed and made a minute ago.
        self.tls = ssl._create_unverified_context()  # noqa: S323

    def connection(self) -> http.client.HTTPSConnection:
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.tls, timeout=60)
        # As if DNS said 127.0.0.1: TLS still names the portal (SNI).
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=60, source_address=(self.source, 0))
        conn.sock = self.tls.wrap_socket(sock, server_hostname=self.host)
        return conn

    def request(self, method: str, path: str, *, body: dict | None = None, headers: dict | None = None, conn=None):
        """(status, headers, body bytes). Follows no redirects; stores cookies."""
        own = conn is None
        conn = conn or self.connection()
        all_headers = {"Host": f"{self.host}:{self.port}", "User-Agent": "portal-drill"}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
            all_headers["Origin"] = self.base
            all_headers["Referer"] = self.base + path
        all_headers.update(headers or {})
        try:
            conn.request(method, path, body=data, headers=all_headers)
            response = conn.getresponse()
            content = response.read()
        finally:
            if own:
                conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            self.set_cookie_headers.append(header)
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.headers, content

    def log_in(self, username: str) -> None:
        status, _, page = self.request("GET", "/accounts/login/")
        check(status == 200, f"GET /accounts/login/ answered {status}")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        check(token is not None, "the login page has no CSRF token")
        form = {"csrfmiddlewaretoken": token.group(1).decode(), "username": username, "password": PASSWORD}
        status, headers, _ = self.request("POST", "/accounts/login/", body=form)
        check(status == 302 and headers["Location"] == "/", f"login as {username} answered {status} {headers}")


# --- Checks ----------------------------------------------------------------------


def settings_listed(env_file: str, *sources: str) -> str:
    """Every environment variable the settings and gunicorn config read is in the template, and only those."""
    read = set()
    pattern = re.compile(
        r'(?:os\.environ\.get|os\.getenv|env[a-z]+)\(\s*"([A-Z][A-Z0-9_]*)"|os\.environ\["([A-Z][A-Z0-9_]*)"\]'
    )
    for source in sources:
        text = Path(source).read_text()
        read |= {match.group(1) or match.group(2) for match in pattern.finditer(text)}
        if "dj_database_url.config(" in text:
            read.add("DATABASE_URL")  # dj-database-url reads it itself
    listed = set(re.findall(r"^#?([A-Z][A-Z0-9_]*)=", Path(env_file).read_text(), re.MULTILINE))
    missing, stale = sorted(read - listed), sorted(listed - read)
    check(not missing, f"{env_file} does not list {', '.join(missing)}")
    check(not stale, f"{env_file} lists {', '.join(stale)}, which nothing reads any more")
    return f"{len(read)} settings listed"


def redirect(http_port: int, host: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
    conn.request("GET", "/plan/?x=1", headers={"Host": host})
    response = conn.getresponse()
    location = response.headers.get("Location", "")
    check(response.status == 301, f"http:// answered {response.status}, not 301")
    check(location == f"https://{host}/plan/?x=1", f"http:// redirected to {location!r}")
    return f"301 → {location}"


def static(base: str, app_log: str) -> str:
    client = Client(base)
    _, _, page = client.request("GET", "/accounts/login/")
    links = re.findall(rb'href="(/static/[^"]+\.css)"', page)
    check(bool(links), "the login page links no stylesheet")
    path = links[0].decode()
    status, headers, body = client.request("GET", path, headers={"Accept-Encoding": "gzip"})
    check(status == 200 and body, f"GET {path} answered {status}")
    check("immutable" in headers.get("Cache-Control", ""), f"{path}: Cache-Control is {headers.get('Cache-Control')!r}")
    check(headers.get("Content-Encoding") == "gzip", f"{path} was not served from its .gz copy (gzip_static)")
    time.sleep(0.5)
    check(path not in Path(app_log).read_text(), f"{path} reached gunicorn: nginx did not serve it")
    return f"{path}: nginx, gzip, {headers['Cache-Control']}"


def health(base: str) -> str:
    deadline = time.monotonic() + 90
    while True:
        status, _, body = Client(base).request("GET", "/healthz")
        data = json.loads(body) if status == 200 else {}
        if data.get("database") == "ok" and data.get("reminders") == "ok":
            return body.decode()
        check(time.monotonic() < deadline, f"/healthz answered {status} {body[:200]!r}")
        time.sleep(2)


def journey(base: str) -> str:
    """Log in, tick a step on the today page, download the plan PDF, in Chromium over https."""
    from playwright.sync_api import sync_playwright

    host = urllib.parse.urlsplit(base).hostname
    args = [*chromium.ARGS, f"--host-resolver-rules=MAP {host} 127.0.0.1"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium.EXECUTABLE, args=args)
        try:
            context = browser.new_context(ignore_https_errors=True, viewport={"width": 390, "height": 844})
            page = context.new_page()
            first = page.goto(base + "/")
            check(page.url.startswith(base + "/accounts/login/"), f"/ did not ask to log in: {page.url}")
            hsts = first.headers.get("strict-transport-security")
            check(hsts and "max-age=31536000" in hsts, f"no HSTS header on the login page: {hsts!r}")
            page.fill("input[name=username]", "demo-patient")
            page.fill("input[name=password]", PASSWORD)
            page.locator("form:has(input[name=password]) [type=submit]").click()
            page.wait_for_url(base + "/")
            check("Today" in page.inner_text("h1"), "the today page did not open after logging in")

            if page.locator("form.step-check button[aria-pressed=false]").count() == 0:
                # Every open step waits for its caution to be read first: confirm one.
                page.locator("form.caution-ack button").first.click()
                page.wait_for_load_state()
            button = page.locator("form.step-check button[aria-pressed=false]").first
            card_id = button.locator("xpath=ancestor::li[contains(@class,'step-card')]").get_attribute("id")
            button.click()
            page.wait_for_load_state()
            page.reload()
            card = page.locator(f"#{card_id}")
            check("is-done" in (card.get_attribute("class") or ""), f"{card_id} is not marked done after the tick")

            # Fetched by the page itself: Chromium's connection, cookies and host mapping (headless
            # Chromium would download a PDF it navigates to rather than show it).
            pdf = page.evaluate(
                """async (url) => {
                    const r = await fetch(url);
                    const bytes = new Uint8Array(await r.arrayBuffer());
                    return {status: r.status, type: r.headers.get("content-type"), size: bytes.length,
                            head: String.fromCharCode(...bytes.slice(0, 4))};
                }""",
                "/plan/handout.pdf",
            )
            check(pdf["status"] == 200, f"/plan/handout.pdf answered {pdf['status']}")
            check(pdf["type"] == "application/pdf", f"/plan/handout.pdf is {pdf['type']}")
            check(pdf["head"] == "%PDF", "/plan/handout.pdf is not a PDF")

            cookies = {c["name"]: c for c in context.cookies()}
            for name in ("sessionid", "csrftoken"):
                check(name in cookies, f"no {name} cookie")
                check(cookies[name]["secure"], f"the {name} cookie is not Secure")
            check(cookies["sessionid"]["httpOnly"], "the session cookie is readable by scripts")
        finally:
            browser.close()
    return f"ticked {card_id}, plan PDF {pdf['size']} bytes, Secure sessionid+csrftoken, HSTS {hsts!r}"


def forwarded(base: str, app_log: str) -> str:
    """The access log names the client nginx saw (X-Forwarded-For), not nginx, and not what a client claims."""
    django_setup()
    from portal.models import AccessLog

    forged = "203.0.113.66"
    cases = [  # (source address, X-Forwarded-For the client itself sends, expected address in the log)
        ("127.0.0.2", None, "127.0.0.2"),
        ("127.0.0.3", forged, "127.0.0.3"),
    ]
    seen = []
    for n, (source, header, expected) in enumerate(cases):
        client = Client(base, source=source)
        client.log_in("demo-patient")
        path = f"/plan/?drill=forwarded-{os.getpid()}-{n}"
        status, _, _ = client.request("GET", path, headers={"X-Forwarded-For": header} if header else {})
        check(status == 200, f"GET {path} from {source} answered {status}")
        row = AccessLog.objects.filter(path=path).first()
        check(row is not None, f"no access log row for {path}")
        check(
            row.ip_address == expected,
            f"{path} from {source} (X-Forwarded-For: {header}) was logged as {row.ip_address}, not {expected}",
        )
        seen.append(f"{source}{' + forged ' + header if header else ''} → {row.ip_address}")
    time.sleep(0.5)
    # gunicorn's own log shows the connection came from nginx, with the chain nginx built.
    line = next((x for x in Path(app_log).read_text().splitlines() if f"forwarded-{os.getpid()}-1" in x), "")
    check(line.startswith("127.0.0.1 "), f"gunicorn did not see nginx as the peer: {line!r}")
    check(f'"{forged}, 127.0.0.3"' in line, f"nginx did not append the client to X-Forwarded-For: {line!r}")
    return "; ".join(seen) + " (gunicorn's peer: nginx at 127.0.0.1)"


def worker_pids(master: int) -> set[int]:
    children = set()
    for task in Path(f"/proc/{master}/task").iterdir():
        children |= {int(p) for p in (task / "children").read_text().split()}
    return children


def reload(base: str, master: int, *, threads: int = 4, limit: float = 90.0) -> str:
    """Requests keep flowing while gunicorn gets SIGHUP: no 5xx, no error, and the workers really change.

    gunicorn starts the new workers and stops the old ones at once; requests that
    arrive while the new ones import Django wait in the listen queue rather than
    fail. The stream runs until every worker is new, and a few seconds more.
    """
    before = worker_pids(master)
    check(bool(before), f"gunicorn {master} has no workers")
    results: list[tuple[float, float, int | str]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def stream(n: int) -> None:
        client = Client(base)
        paths = ["/healthz", "/accounts/login/"]
        i = 0
        while not stop.is_set():
            started = time.monotonic()
            try:
                status, _, _ = client.request("GET", paths[(i + n) % 2])
            except Exception as exc:  # a reset or refused connection is exactly what must not happen
                status = f"{type(exc).__name__}: {exc}"
            with lock:
                results.append((started, time.monotonic() - started, status))
            i += 1

    workers = [threading.Thread(target=stream, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    try:
        time.sleep(3)
        hup_at = time.monotonic()
        os.kill(master, signal.SIGHUP)
        while True:
            after = worker_pids(master)
            if not (before & after) and len(after) >= len(before):
                break
            if time.monotonic() - hup_at > limit:
                raise Failed(f"{limit:.0f} s after SIGHUP the workers are {sorted(after)} (before: {sorted(before)})")
            time.sleep(0.2)
        replaced_at = time.monotonic()
        # Then until the new workers have answered a good number of requests.
        while sum(1 for r in list(results) if r[0] >= replaced_at) < 20:
            if time.monotonic() - hup_at > limit:
                raise Failed(f"the new workers answered too few requests within {limit:.0f} s of the SIGHUP")
            time.sleep(0.2)
    finally:
        stop.set()
        for w in workers:
            w.join()
    statuses = collections.Counter(status for _, _, status in results)
    bad = {s: c for s, c in statuses.items() if not isinstance(s, int) or s >= 500}
    check(not bad, f"during the reload: {bad} (all: {dict(statuses)})")
    check(set(statuses) == {200}, f"unexpected answers during the reload: {dict(statuses)}")
    since_hup = [r for r in results if r[0] >= hup_at]
    slowest = max(elapsed for _, elapsed, _ in since_hup)
    return (
        f"{len(results)} requests, all 200, {len(since_hup)} of them after the SIGHUP; workers {sorted(before)} → "
        f"{sorted(after)}; slowest answer {slowest:.1f} s (waiting for the new workers to import the app)"
    )


def drill_local_zone(now: dt.datetime) -> str:
    """An Etc/GMT zone where it is now about 10:00, so a morning and an evening time fit in today."""
    offset = (10 - now.hour + 12) % 24 - 12  # hours east of UTC, -12 … +11
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"  # POSIX-style: Etc/GMT-3 is UTC+3


def make_drill_patients(count: int, *, zone: str) -> list:
    from django.contrib.auth import get_user_model

    from portal.models import Patient
    from routines.models import RoutineTemplate
    from routines.services import assign_routine

    User = get_user_model()
    existing = list(Patient.objects.filter(user__email__endswith="@" + DRILL_DOMAIN))
    if existing:
        return existing
    template = RoutineTemplate.objects.get(name="Milia care")
    users = []
    for n in range(count):
        user = User(username=f"drill-{n:04d}", email=f"drill-{n:04d}@{DRILL_DOMAIN}", first_name=f"Drill{n}")
        user.set_unusable_password()
        users.append(user)
    User.objects.bulk_create(users)
    users = User.objects.filter(email__endswith="@" + DRILL_DOMAIN).order_by("username")
    Patient.objects.bulk_create(
        Patient(
            user=user,
            chart_number=f"DRILL-{n:04d}",
            date_of_birth=dt.date(1980, 1, 1),
            time_zone=zone,
            email_consent=True,
            morning_reminder_time=dt.time(6, 0),
            evening_reminder_time=dt.time(21, 0),
        )
        for n, user in enumerate(users)
    )
    patients = list(Patient.objects.filter(user__email__endswith="@" + DRILL_DOMAIN).select_related("user"))
    for patient in patients:
        assign_routine(
            patient=patient,
            template=template,
            start_date=patient.local_today() - dt.timedelta(days=14),
            assigned_by=None,
        )
    return patients


def mail_counts(mail_dir: Path) -> dict[str, collections.Counter]:
    """{recipient: Counter(subject)} for the drill's patients, from the file email backend's files."""
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for path in mail_dir.glob("*.log"):
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if not chunk.strip():
                continue
            message = email.message_from_bytes(chunk)
            to = message.get("To", "")
            if to.endswith("@" + DRILL_DOMAIN):
                counts[to][str(message.get("Subject", ""))] += 1
    return counts


def leased_per_worker(logs: list[str]) -> list[int]:
    """Reminders each worker leased so far, from the "… leased N" line it prints after every pass."""
    return [sum(int(n) for n in re.findall(r"leased (\d+)", Path(log).read_text())) for log in logs]


def reminders(slot: str, patients: int, expect_each: int, mail_dir: str, logs: list[str], *, wait: float = 240) -> str:
    """Make `patients` patients' `slot` reminder due at the next minute; wait until every one is sent once."""
    django_setup()
    from django.utils import timezone

    from portal.models import Patient
    from reminders.models import Reminder
    from reminders.planning import plan_reminders

    now = timezone.now()
    drill_patients = make_drill_patients(patients, zone=drill_local_zone(now))
    leased_before = leased_per_worker(logs)
    zone = drill_patients[0].tz
    # Due at the start of a minute at least 40 s away: time to plan, then a worker's pass (every 30 s).
    due = (now + dt.timedelta(seconds=100)).replace(second=0, microsecond=0)
    local = due.astimezone(zone)
    field = "morning_reminder_time" if slot == "morning" else "evening_reminder_time"
    other = "evening_reminder_time" if slot == "morning" else "morning_reminder_time"
    ids = [p.pk for p in drill_patients]
    # Like a patient changing their time on /reminders/: the app re-plans their future reminders.
    Patient.objects.filter(pk__in=ids).update(**{field: local.time()})
    if slot == "evening":
        # Outside the grace window, so no second morning reminder joins the batch.
        Patient.objects.filter(pk__in=ids).update(**{other: (local - dt.timedelta(hours=3)).time()})
    Reminder.objects.filter(patient_id__in=ids, status=Reminder.Status.PENDING, due_at__gt=now).delete()
    plan_reminders(now=timezone.now(), patient_ids=ids)
    batch = Reminder.objects.filter(patient_id__in=ids, slot=slot, due_at=due)
    check(batch.count() == len(ids), f"{batch.count()} {slot} reminders planned at {due}, not {len(ids)}")

    deadline = due + dt.timedelta(seconds=wait)
    while True:
        by_status = collections.Counter(batch.values_list("status", flat=True))
        if by_status.get(Reminder.Status.SENT, 0) == len(ids):
            break
        stuck = {s: n for s, n in by_status.items() if s in (Reminder.Status.FAILED, Reminder.Status.SKIPPED)}
        check(not stuck, f"{slot} reminders not sent: {dict(by_status)}; e.g. {batch.exclude(status='sent').first()}")
        check(timezone.now() < deadline, f"{slot} reminders due {due:%H:%M:%S}Z still {dict(by_status)} at {wait} s")
        time.sleep(2)
    took = max(batch.values_list("sent_at", flat=True)) - due

    counts = mail_counts(Path(mail_dir))
    emails = {p.user.email for p in drill_patients}
    wrong = {to: dict(c) for to, c in counts.items() if sum(c.values()) != expect_each}
    missing = emails - set(counts)
    check(not missing, f"{len(missing)} patients got no email, e.g. {sorted(missing)[:3]}")
    check(not wrong, f"{len(wrong)} patients did not get exactly {expect_each} emails, e.g. {list(wrong.items())[:2]}")
    slot_words = collections.Counter(
        word for c in counts.values() for subject in c for word in ("morning", "evening") if word in subject
    )
    check(slot_words[slot] == len(ids), f"{slot_words[slot]} emails say {slot}, not {len(ids)}")
    time.sleep(1)  # the pass's own line comes after its last send
    shares = [f"{after - before}" for before, after in zip(leased_before, leased_per_worker(logs), strict=True)]
    return (
        f"{len(ids)} {slot} reminders due {due:%H:%M}Z sent once each, the last {took.total_seconds():.0f} s after "
        f"its time; leased by the workers: {' + '.join(shares)}"
    )


def compare_databases(url_a: str, url_b: str) -> str:
    """Every table has the same number of rows in both databases."""
    import psycopg

    def counts(url: str) -> dict[str, int]:
        with psycopg.connect(url) as conn:
            tables = [
                r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
            ]
            # Table names come from the catalogue itself.
            return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608

    a, b = counts(url_a), counts(url_b)
    check(a.keys() == b.keys(), f"tables differ: {sorted(a.keys() ^ b.keys())}")
    diff = {t: (a[t], b[t]) for t in a if a[t] != b[t]}
    check(not diff, f"row counts differ (live, restored): {diff}")
    check(a.get("portal_patient", 0) > 0, "the live database has no patients to compare")
    return f"{len(a)} tables, {sum(a.values())} rows, equal (e.g. {a.get('portal_patient')} patients)"


def main() -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("settings-listed")
    p.add_argument("env_file")
    p.add_argument("sources", nargs="+")
    p = sub.add_parser("redirect")
    p.add_argument("--http-port", type=int, required=True)
    p.add_argument("--host", required=True)
    for name in ("static", "health", "journey", "forwarded", "reload"):
        p = sub.add_parser(name)
        p.add_argument("--base", required=True)
        if name in ("static", "forwarded"):
            p.add_argument("--app-log", required=True)
        if name == "reload":
            p.add_argument("--master", type=int, required=True)
    p = sub.add_parser("reminders")
    p.add_argument("--slot", choices=["morning", "evening"], required=True)
    p.add_argument("--patients", type=int, required=True)
    p.add_argument("--expect-each", type=int, required=True)
    p.add_argument("--mail-dir", required=True)
    p.add_argument("--worker-logs", nargs="+", required=True)
    p = sub.add_parser("compare-databases")
    p.add_argument("url_a")
    p.add_argument("url_b")
    a = parser.parse_args()
    try:
        if a.command == "settings-listed":
            detail = settings_listed(a.env_file, *a.sources)
        elif a.command == "redirect":
            detail = redirect(a.http_port, a.host)
        elif a.command == "static":
            detail = static(a.base, a.app_log)
        elif a.command == "health":
            detail = health(a.base)
        elif a.command == "journey":
            detail = journey(a.base)
        elif a.command == "forwarded":
            detail = forwarded(a.base, a.app_log)
        elif a.command == "reload":
            detail = reload(a.base, a.master)
        elif a.command == "reminders":
            detail = reminders(a.slot, a.patients, a.expect_each, a.mail_dir, a.worker_logs)
        else:
            detail = compare_databases(a.url_a, a.url_b)
    except Failed as exc:
        print(f"  {exc}")
        return 1
    print(f"  {detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
