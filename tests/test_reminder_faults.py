"""Faults: the reminder worker killed with SIGKILL mid-batch, and the
database connection dropped mid-send. Every due reminder must end sent
exactly once, or failed/skipped with a reason: none lost, none doubled.

These run the real command in subprocesses against a SQLite file, so that a
killed process really dies with its claims in flight.
"""

import datetime as dt
import email
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PATIENTS = 120
DUE = dt.datetime(2027, 3, 10, 13, 0, tzinfo=dt.UTC)  # 08:00 in New York

MAKE_PATIENTS = """
import datetime as dt, sys
import django; django.setup()
from django.contrib.auth import get_user_model
from portal.models import Patient
from routines.models import Plan, PlanStep
for i in range(int(sys.argv[1])):
    user = get_user_model().objects.create_user(f"p{i}", f"p{i}@example.org", first_name=f"P{i}")
    patient = Patient.objects.create(user=user, chart_number=f"F-{i}", date_of_birth=dt.date(1980, 1, 1),
                                     time_zone="America/New_York", email_consent=True)
    plan = Plan.objects.create(patient=patient, name="Routine", start_date=dt.date(2027, 3, 1))
    PlanStep.objects.create(plan=plan, slot="morning", instructions="Wash gently")
"""

SUMMARY = """
import django; django.setup()
from collections import Counter
from reminders.models import Reminder
due = Reminder.objects.filter(slot="morning", local_date="2027-03-10")
print(dict(Counter(due.values_list("status", flat=True))))
bad = due.exclude(status__in=["sent", "failed", "skipped"]).count()
unexplained = due.filter(status__in=["failed", "skipped"], last_error="", skip_reason="").count()
sent = sorted(due.filter(status="sent").values_list("patient__user__email", flat=True))
print("BAD", bad, "UNEXPLAINED", unexplained)
print("SENT", ",".join(sent))
"""


@pytest.fixture
def worker_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_TEST_NAME")}
    env.update(
        DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'faults.sqlite3'}",
        VAR_DIR=str(tmp_path / "var"),
        EMAIL_BACKEND="tests.slow_mail.SlowFileBackend",
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
        TASKS_BACKEND="dummy",
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    subprocess.run([sys.executable, "-c", MAKE_PATIENTS, str(PATIENTS)], cwd=ROOT, env=env, check=True)
    return env


def run_pass(env, now, **kwargs):
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_reminders", "--once", "--now", now.isoformat()],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def recipients(mail_dir: Path) -> Counter:
    """How many reminder emails each address received, read from the file backend's output."""
    counts = Counter()
    for path in mail_dir.glob("*.log"):
        for chunk in path.read_text().split("-" * 79):
            if chunk.strip():
                counts[email.message_from_string(chunk.strip()).get("To")] += 1
    return counts


def summary(env):
    out = subprocess.run([sys.executable, "-c", SUMMARY], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    bad, unexplained = (int(x) for x in lines[1].split()[1::2])
    sent = [a for a in lines[2].removeprefix("SENT ").split(",") if a]
    return bad, unexplained, sent


def test_it_recovers_from_a_worker_killed_mid_batch_without_losing_or_doubling(worker_env, tmp_path):
    mail_dir = tmp_path / "mail"
    worker = run_pass(worker_env, DUE + dt.timedelta(minutes=1))
    deadline = time.monotonic() + 60
    while sum(recipients(mail_dir).values()) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    assert worker.returncode == -signal.SIGKILL, worker.stderr.read()
    emailed_before_restart = sum(recipients(mail_dir).values())
    assert 0 < emailed_before_restart < PATIENTS, "the kill must land mid-batch"

    # Restart after the claim timeout: stuck rows are recovered, the rest sent.
    restarted = run_pass(worker_env, DUE + dt.timedelta(minutes=15))
    assert restarted.wait(timeout=120) == 0, restarted.stderr.read()

    bad, unexplained, sent = summary(worker_env)
    received = recipients(mail_dir)
    assert bad == 0, "every due reminder ends sent, failed or skipped"
    assert unexplained == 0, "every failure or skip says why"
    assert max(received.values()) == 1, "nobody got the reminder twice"
    assert all(received[address] == 1 for address in sent), "every 'sent' row was really sent"
    assert len(received) >= len(sent)


def test_it_recovers_when_the_database_connection_drops_mid_send(worker_env, tmp_path):
    """The first send's database write fails as if the connection dropped; the pass carries on."""
    env = {**worker_env, "FAULT_DROP_CONNECTION_AFTER": "5"}
    worker = run_pass(env, DUE + dt.timedelta(minutes=1))
    assert worker.wait(timeout=120) == 0, worker.stderr.read()
    rerun = run_pass(worker_env, DUE + dt.timedelta(minutes=15))
    assert rerun.wait(timeout=120) == 0, rerun.stderr.read()

    bad, unexplained, sent = summary(worker_env)
    received = recipients(tmp_path / "mail")
    assert bad == 0 and unexplained == 0
    assert max(received.values()) == 1
    assert len(sent) >= PATIENTS - 1
