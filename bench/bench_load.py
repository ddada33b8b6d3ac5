"""Patient pages under concurrent load while the reminder worker writes.

    .venv/bin/python bench/bench_load.py [--db sqlite|postgres] [--seconds 10] [--clients 8] [--patients 2000]

Serves the portal with gunicorn (3 workers, DEBUG off) on 127.0.0.1 from a
throwaway database (SQLite in WAL mode, or a fresh PostgreSQL database
`bench_load`), with `--patients` extra patients on daily plans. Beside it a
writer runs reminder passes back to back (`run_reminders --once --now T`,
T advancing 20 minutes a pass, emails to the in-memory backend), so the
database takes reminder inserts and updates throughout. Then, page by page,
`--clients` client processes load `/`, `/plan/` and the tick POST for
`--seconds` each, and we print requests/s, p50/p99 latency and errors (any
5xx, a refused connection, or "database is locked" in any log).

Load goes only to 127.0.0.1 and stops by itself.
"""

import argparse
import datetime as dt
import multiprocessing
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_today import HOST, PYTHON, ROOT, bench_env, log_in, manage, request, start_gunicorn  # noqa: E402

EXTRA_PATIENTS = """
import datetime as dt, sys
import django; django.setup()
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from portal.models import Patient
from routines.models import Plan, PlanStep
n = int(sys.argv[1]); User = get_user_model(); password = make_password(None)
start = dt.date.today() - dt.timedelta(days=3)
for first in range(0, n, 500):
    size = min(500, n - first)
    users = User.objects.bulk_create([
        User(username=f"load{i}", email=f"load{i}@example.org", password=password)
        for i in range(first, first + size)])
    patients = Patient.objects.bulk_create([
        Patient(user=u, chart_number=f"LOAD-{u.username}", date_of_birth=dt.date(1980, 1, 1), email_consent=True)
        for u in users])
    plans = Plan.objects.bulk_create([Plan(patient=p, name="Load", start_date=start) for p in patients])
    PlanStep.objects.bulk_create(
        [PlanStep(plan=p, slot=s, instructions="Wash") for p in plans for s in ("morning", "evening")])
"""

WRITER = """
import datetime as dt, sys, time, traceback
import django; django.setup()
from django.core.management import call_command
from django.db import close_old_connections
now, stop_at, passes, errors = dt.datetime.now(dt.UTC), time.monotonic() + float(sys.argv[1]), 0, 0
while time.monotonic() < stop_at:
    try:
        call_command("run_reminders", once=True, now=now.isoformat(), stdout=open("/dev/null", "w"))
        passes += 1
    except Exception:
        errors += 1
        traceback.print_exc()
        close_old_connections()
    now += dt.timedelta(minutes=20)
print(f"writer passes={passes} errors={errors}")
"""


def _client(args):
    port, method, path, cookie, body, seconds = args
    latencies, errors, deadline = [], [], time.monotonic() + seconds
    headers = {"Cookie": cookie}
    if body:
        headers.update({"Content-Type": "application/x-www-form-urlencoded", "Referer": f"http://{HOST}:{port}/"})
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            status = request(port, path, method=method, body=body, headers=headers).status
        except OSError as exc:
            status = f"{type(exc).__name__}: {exc}"
        latencies.append(time.perf_counter() - started)
        if not isinstance(status, int) or status >= 500:
            errors.append(str(status))
    return latencies, errors


def load(port, method, path, cookie, body, *, seconds, clients):
    with multiprocessing.Pool(clients) as pool:
        results = pool.map(_client, [(port, method, path, cookie, body, seconds)] * clients)
    latencies = sorted(x for lat, _ in results for x in lat)
    errors = [e for _, errs in results for e in errs]
    return {
        "requests": len(latencies),
        "rps": len(latencies) / seconds,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[int(len(latencies) * 0.99)] * 1000,
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
    }


def tick_request(port, cookie):
    """The body of the tick form for demo-patient's first step today, and its URL."""
    page = request(port, "/", headers={"Cookie": cookie}).body.decode()
    action = re.search(r'action="(/plan/steps/\d+/check/)"', page).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    return action, urlencode({"csrfmiddlewaretoken": token, "next": "/"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--patients", type=int, default=2000)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        tmp = Path(tmp)
        env = bench_env(tmp)
        env["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
        if options.db == "postgres":
            for command in (["dropdb", "--if-exists"], ["createdb"]):
                subprocess.run([*command, "-h", "127.0.0.1", "-U", "postgres", "bench_load"], check=True)
            env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/bench_load"
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo")
        manage(env, "collectstatic", "--noinput")
        subprocess.run([PYTHON, "-c", EXTRA_PATIENTS, str(options.patients)], cwd=ROOT, env=env, check=True)

        server_log = open(tmp / "gunicorn.log", "w")
        server, port = start_gunicorn(env, workers=3, log=server_log)
        pages = {}
        try:
            cookie = log_in(port)  # session and CSRF cookies, as a browser sends them
            tick_path, tick_body = tick_request(port, cookie)
            duration = options.seconds * 3 + 5
            writer_log = open(tmp / "writer.log", "w")
            writer = subprocess.Popen(
                [PYTHON, "-c", WRITER, str(duration)], cwd=ROOT, env=env, stdout=writer_log, stderr=subprocess.STDOUT
            )
            time.sleep(2)  # let the writer start its first pass
            for name, method, path, body in (
                ("today  /", "GET", "/", None),
                ("plan   /plan/", "GET", "/plan/", None),
                ("tick   POST", "POST", tick_path, tick_body),
            ):
                pages[name] = load(port, method, path, cookie, body, seconds=options.seconds, clients=options.clients)
            writer.wait(timeout=duration + 120)
        finally:
            server.terminate()
            server.wait(timeout=10)
        logs = (tmp / "gunicorn.log").read_text() + (tmp / "writer.log").read_text()
        writer_summary = re.search(r"writer passes=\d+ errors=\d+", logs)

    locked = logs.count("database is locked")
    print(
        f"{dt.date.today()} · {options.db} · gunicorn 3 workers, DEBUG off · {options.clients} client processes · "
        f"{options.seconds:g} s per page · {options.patients} extra patients · reminder writer running"
    )
    print(f"{'page':<15}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for name, r in pages.items():
        print(f"{name:<15}{r['requests']:>9}{r['rps']:>9.1f}{r['p50']:>9.1f}{r['p99']:>9.1f}{r['errors']:>8}")
    for name, r in pages.items():
        if r["errors"]:
            print(f"{name}: {', '.join(r['error_kinds'])}")
    if "Traceback" in logs:
        print("first server error:", logs[logs.index("Traceback") :][:1500])
    writer_line = writer_summary.group(0) if writer_summary else "writer: no summary"
    print(f"{writer_line}; 'database is locked' in logs: {locked}")
    if locked or any(r["errors"] for r in pages.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
