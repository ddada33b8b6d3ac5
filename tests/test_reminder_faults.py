"""Faults: the reminder worker killed with SIGKILL mid-batch, and the database
connection dropped mid-send. Every due reminder must end sent exactly once, or
failed/skipped with a reason: none doubled, and a killed worker costs at most
the one message it had in hand ("delivery unknown").

These run the real command in subprocesses, so that a killed process really
dies with its lease and its claim in flight. The database is a fresh SQLite
file (which waits for its write lock), or, when the suite runs with a
PostgreSQL DATABASE_URL, a fresh database on that server.
"""

import datetime as dt
import subprocess
import sys

from tests.workers import PATIENTS, ROOT, kill_one_of_two_passes, recipients, run_pass

DUE = dt.datetime(2027, 3, 10, 13, 0, tzinfo=dt.UTC)  # 08:00 in New York

SUMMARY = """
import django; django.setup()
from collections import Counter
from reminders.models import Reminder
due = Reminder.objects.filter(slot="morning", local_date="2027-03-10")
print(dict(Counter(due.values_list("status", flat=True))))
bad = due.exclude(status__in=["sent", "failed", "skipped"]).count()
unexplained = due.filter(status__in=["failed", "skipped"], last_error="", skip_reason="").count()
print("BAD", bad, "UNEXPLAINED", unexplained)
print("SENT", ",".join(sorted(due.filter(status="sent").values_list("patient__user__email", flat=True))))
unknown = due.filter(status="failed", last_error__contains="delivery is unknown")
print("UNKNOWN", ",".join(sorted(unknown.values_list("patient__user__email", flat=True))))
"""


def summary(env):
    """(rows not finished, failures or skips without a reason, addresses of sent rows, of "delivery unknown" rows)."""
    out = subprocess.run([sys.executable, "-c", SUMMARY], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    bad, unexplained = (int(x) for x in lines[1].split()[1::2])
    sent = [a for a in lines[2].removeprefix("SENT ").split(",") if a]
    unknown = [a for a in lines[3].removeprefix("UNKNOWN ").split(",") if a]
    return bad, unexplained, sent, unknown


def test_it_costs_at_most_one_unknown_message_when_one_of_two_workers_is_killed(worker_env, tmp_path):
    """The drill: two concurrent passes over one peak minute, one SIGKILLed mid-batch, then a pass after the claim
    timeout."""
    mail_dir = tmp_path / "mail"
    kill_one_of_two_passes(worker_env, mail_dir, DUE + dt.timedelta(minutes=1))

    # After the claim timeout: the message in hand is recorded, the victim's unsent lease goes out.
    after = run_pass(worker_env, DUE + dt.timedelta(minutes=15))
    assert after.wait(timeout=120) == 0, after.stderr.read()

    bad, unexplained, sent, unknown = summary(worker_env)
    received = recipients(mail_dir)
    assert bad == 0, "every due reminder ends sent, failed or skipped"
    assert unexplained == 0, "every failure or skip says why"
    assert max(received.values()) == 1, "nobody got the reminder twice"
    assert len(unknown) <= 1, "at most one 'delivery unknown' per killed worker"
    assert len(sent) + len(unknown) == PATIENTS, "everyone else was reminded"
    assert all(received[address] == 1 for address in sent), "every 'sent' row was really sent"
    assert set(received) <= set(sent) | set(unknown), "nothing went out unrecorded"


def test_it_recovers_when_the_database_connection_drops_mid_send(worker_env, tmp_path):
    """The fifth send's database write fails as if the connection dropped; the pass carries on."""
    env = {**worker_env, "FAULT_DROP_CONNECTION_AFTER": "5"}
    worker = run_pass(env, DUE + dt.timedelta(minutes=1))
    assert worker.wait(timeout=120) == 0, worker.stderr.read()
    rerun = run_pass(worker_env, DUE + dt.timedelta(minutes=15))
    assert rerun.wait(timeout=120) == 0, rerun.stderr.read()

    bad, unexplained, sent, unknown = summary(worker_env)
    received = recipients(tmp_path / "mail")
    assert bad == 0 and unexplained == 0
    assert max(received.values()) == 1
    assert len(sent) >= PATIENTS - 1
