"""Benchmark: plan a day of reminders and send one peak minute with 1 and 2 `run_reminders` workers.

    .venv/bin/python bench/bench_reminders.py --patients 10000 --db sqlite
    .venv/bin/python bench/bench_reminders.py --patients 100000 --db postgres

Creates a fresh database (SQLite file under var/, or PostgreSQL database
`bench_reminders` on 127.0.0.1 — never the `test` database), N patients with
email consent and a one-step daily morning plan, all with the same reminder
minute (the "08:00 peak": every patient due at once). Then:

1. plans a day (`plan_reminders`, REMINDER_PLAN_AHEAD_HOURS=22) and times it;
2. for 1 and then 2 workers: resets the peak to pending and runs that many
   `manage.py run_reminders --once --no-plan` processes at once under
   `/usr/bin/time -v` (each leases a batch from the Reminder table and claims
   every row before sending it), reporting sent/s over the workers' wall
   time, each worker's peak RSS and the workers' CPU time a reminder (the
   figure that holds when other work shares the machine).

Emails go through Django's locmem backend; `BoundedLocmemBackend` below keeps
only the last few messages so memory measures the worker, not the outbox.
"""

import argparse
import datetime as dt
import os
import re
import subprocess
import sys
import time
import zoneinfo
from pathlib import Path

from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

ROOT = Path(__file__).resolve().parent.parent
PG_URL = "postgres://postgres@127.0.0.1:5432/bench_reminders"
SQLITE_PATH = ROOT / "var" / "bench_reminders.sqlite3"


class BoundedLocmemBackend(LocmemBackend):
    """Django's locmem backend (builds every MIME message), keeping only the last 10."""

    def send_messages(self, messages):
        from django.core import mail

        count = super().send_messages(messages)
        del mail.outbox[:-10]
        return count


def environment(db: str) -> dict:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        SECRET_KEY="bench-only-secret-key-not-for-production-0123456789",
        DEBUG="0",
        PORTAL_BASE_URL="https://portal.example.org",
        DATABASE_URL=PG_URL if db == "postgres" else f"sqlite:///{SQLITE_PATH}",
        EMAIL_BACKEND="bench.bench_reminders.BoundedLocmemBackend",
        REMINDER_PLAN_AHEAD_HOURS="22",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


def fresh_database(db: str) -> None:
    if db == "postgres":
        server = ["-h", "127.0.0.1", "-U", "postgres"]
        subprocess.run(["dropdb", *server, "--if-exists", "--force", "bench_reminders"], check=True)
        subprocess.run(["createdb", *server, "bench_reminders"], check=True)
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)


def create_patients(n: int, peak: dt.time, batch: int = 5000) -> None:
    from django.contrib.auth import get_user_model

    from portal.models import Patient
    from routines import schedule
    from routines.models import Plan, PlanStep

    User = get_user_model()
    start = dt.date.today() - dt.timedelta(days=7)
    for first in range(0, n, batch):
        numbers = range(first, min(n, first + batch))
        users = User.objects.bulk_create(
            [User(username=f"bench{i}", email=f"bench{i}@example.org", first_name="Pat", password="!") for i in numbers]
        )
        patients = Patient.objects.bulk_create(
            [
                Patient(
                    user=user,
                    chart_number=f"B-{i:07}",
                    date_of_birth=dt.date(1980, 1, 1),
                    time_zone="America/New_York",
                    email_consent=True,
                    morning_reminder_time=peak,
                    evening_reminder_time=dt.time(23, 59),
                )
                for i, user in zip(numbers, users, strict=True)
            ]
        )
        plans = Plan.objects.bulk_create([Plan(patient=p, name="Bench care", start_date=start) for p in patients])
        PlanStep.objects.bulk_create(
            [PlanStep(plan=plan, slot=schedule.MORNING, instructions="Apply sunscreen SPF 30") for plan in plans]
        )


def run_workers(count: int, env: dict) -> tuple[float, list[int], float]:
    """Run `count` workers until nothing is due. Returns (seconds, peak RSS in KiB each, CPU seconds of all)."""
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [
                "/usr/bin/time",
                "-v",
                sys.executable,
                "manage.py",
                "run_reminders",
                "--once",
                "--no-plan",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    rss, cpu = [], 0.0
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"worker failed:\n{err[-3000:]}")
        rss.append(int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", err).group(1)))
        cpu += sum(float(re.search(rf"{kind} time \(seconds\): ([\d.]+)", err).group(1)) for kind in ("User", "System"))
    return time.perf_counter() - started, rss, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts to try")
    parser.add_argument(
        "--synchronous-commit", action="store_true", help="workers flush every write (REMINDER_SYNCHRONOUS_COMMIT=1)"
    )
    args = parser.parse_args()

    env = environment(args.db)
    env["REMINDER_SYNCHRONOUS_COMMIT"] = "1" if args.synchronous_commit else "0"
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    fresh_database(args.db)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from reminders import planning
    from reminders.models import Reminder

    call_command("migrate", verbosity=0)
    # Everyone due one minute ago, at the same wall-clock minute: the peak.
    now = timezone.now()
    peak_local = (now - dt.timedelta(minutes=1)).astimezone(zoneinfo.ZoneInfo("America/New_York"))
    peak = peak_local.time().replace(second=0, microsecond=0)

    t = time.perf_counter()
    create_patients(args.patients, peak)
    print(f"{args.db}: created {args.patients} patients with plans in {time.perf_counter() - t:.1f} s")

    t = time.perf_counter()
    planning.plan_reminders(now=now)
    planning = time.perf_counter() - t
    planned = Reminder.objects.count()
    print(f"{args.db}: planned a day ({planned} reminders) in {planning:.1f} s")

    for run, workers in enumerate(int(w) for w in args.workers.split(",")):
        if run:
            Reminder.objects.update(status="pending", sent_at=None, lease=None, leased_until=None, attempts=0)
            if args.db == "postgres":
                # As fresh as planned rows: without it the reset's dead row versions slow every lease query.
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM ANALYZE reminders_reminder")
        seconds, rss, cpu = run_workers(workers, env)
        sent = Reminder.objects.filter(status="sent").count()
        others = dict(Reminder.objects.exclude(status="sent").values_list("status").annotate(n=Count("pk")))
        print(
            f"{args.db}: {workers} worker(s){' (synchronous commit)' if args.synchronous_commit else ''}: "
            f"sent {sent} in {seconds:.1f} s = {sent / seconds:.0f}/s; "
            f"peak RSS per worker {', '.join(f'{kb / 1024:.0f} MB' for kb in rss)}; "
            f"worker CPU {cpu * 1e6 / max(sent, 1):.0f} µs a reminder" + (f"; not sent: {others}" if others else "")
        )


if __name__ == "__main__":
    main()
