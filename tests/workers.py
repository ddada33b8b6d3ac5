"""Running reminder workers for real, for the concurrency and fault tests (no tests in here).

Threads with their own database connections (`run_workers`), and whole `run_reminders` processes
against a database of their own (`run_pass`; the `worker_env` fixture in tests/conftest.py builds
it with PATIENTS patients due on the same morning), so a killed process really dies mid-batch.
"""

import email
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
PATIENTS = 200

MAKE_PATIENTS = """
import datetime as dt, sys
import django; django.setup()
from tests.factories import PatientFactory, PlanFactory
for i in range(int(sys.argv[1])):
    # No password: hashing 200 of them would take longer than the drill.
    patient = PatientFactory(username=f"p{i}", chart_number=f"F-{i}", user__password=None, email_consent=True)
    PlanFactory(patient=patient, name="Routine", start_date=dt.date(2027, 3, 1),
                steps=[{"slot": "morning", "instructions": "Wash gently"}])
"""


def run_workers(count, work):
    barrier = threading.Barrier(count)
    errors = []

    def worker():
        try:
            barrier.wait()
            work()
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors


def run_pass(env, now):
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_reminders", "--once", "--now", now.isoformat()],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def recipients(mail_dir: Path) -> Counter:
    """How many reminder emails each address received, read from the file backend's output."""
    counts = Counter()
    for path in mail_dir.glob("*.log"):
        for chunk in path.read_text().split("-" * 79):
            if chunk.strip():
                counts[email.message_from_string(chunk.strip()).get("To")] += 1
    return counts


def kill_one_of_two_passes(env, mail_dir: Path, now) -> int:
    """The drill: two concurrent `run_reminders --once` passes at `now`; one is SIGKILLed once a quarter of
    PATIENTS have mail, the other must finish cleanly. Returns how many emails had gone out at the kill."""
    victim, survivor = run_pass(env, now), run_pass(env, now)
    deadline = time.monotonic() + 60
    while sum(recipients(mail_dir).values()) < PATIENTS // 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    assert victim.returncode == -signal.SIGKILL, victim.stderr.read()
    emailed_at_kill = sum(recipients(mail_dir).values())
    assert survivor.wait(timeout=120) == 0, survivor.stderr.read()
    assert 0 < emailed_at_kill < PATIENTS, "the kill must land mid-batch"
    return emailed_at_kill
