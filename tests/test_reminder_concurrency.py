"""Two workers at once send each due reminder exactly once.

Real threads with their own database connections against committed data, on
SQLite and on PostgreSQL (the suite also runs with DATABASE_URL=postgres://…).
"""

import threading
from collections import Counter

import pytest
from django.db import connection

from reminders import planning, sending
from reminders.models import Reminder
from routines import schedule
from routines.models import StepCheck
from tests.conftest import make_patient
from tests.test_reminder_support import make_plan, utc

DUE = utc(2027, 3, 2, 13, 0)
PATIENTS = 40


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


@pytest.mark.django_db(transaction=True)
def test_it_sends_each_reminder_once_with_two_workers(mailoutbox):
    for n in range(PATIENTS):
        patient = make_patient(f"p{n}", f"C-{n:04}", email_consent=True)
        make_plan(patient, steps=[(schedule.MORNING, "Sunscreen")])
    planning.plan_reminders(now=DUE)
    due = Reminder.objects.filter(due_at=DUE).count()
    assert due == PATIENTS

    def drain():
        # Small leases, so the two workers keep leasing side by side.
        while sending.send_due(now=DUE, batch_size=3):
            pass

    run_workers(2, drain)

    recipients = Counter(address for email in mailoutbox for address in email.to)
    assert len(recipients) == PATIENTS
    assert set(recipients.values()) == {1}
    assert Reminder.objects.filter(due_at=DUE, status="sent").count() == PATIENTS


@pytest.mark.django_db(transaction=True)
def test_it_sends_each_reminder_once_when_two_workers_hold_the_same_rows(mailoutbox):
    """As after a lease ran out while its worker was still sending: the per-row claim decides."""
    for n in range(PATIENTS):
        patient = make_patient(f"p{n}", f"C-{n:04}", email_consent=True)
        make_plan(patient, steps=[(schedule.MORNING, "Sunscreen")])
    planning.plan_reminders(now=DUE)
    ids = list(Reminder.objects.filter(due_at=DUE).values_list("pk", flat=True))

    def send_all():
        sent = [r.pk for r in sending.load(ids) if sending.send_one(r, now=DUE, hidden_words=[]) == "sending"]
        sending.settle(Reminder.objects.filter(pk__in=sent))

    run_workers(2, send_all)

    recipients = Counter(address for email in mailoutbox for address in email.to)
    assert len(recipients) == PATIENTS
    assert set(recipients.values()) == {1}
    assert Reminder.objects.filter(due_at=DUE, status="sent").count() == PATIENTS


@pytest.mark.django_db(transaction=True)
def test_it_lets_only_one_of_two_racing_claims_win():
    # No cast fixtures here: a transactional test flushes the groups they need.
    alice = make_patient("alice", "C-1001", email_consent=True)
    make_plan(alice, steps=[(schedule.MORNING, "Sunscreen")])
    planning.plan_reminders(now=DUE)
    reminder = Reminder.objects.get(due_at=DUE)
    for _ in range(10):
        Reminder.objects.filter(pk=reminder.pk).update(status="pending")
        wins = []
        run_workers(2, lambda wins=wins: wins.append(sending.claim(reminder, now=DUE)))
        assert sorted(wins) == [False, True]


@pytest.mark.django_db(transaction=True)
def test_it_survives_simultaneous_taps_on_one_step():
    """Eight simultaneous toggles of one step: no error, never two ticks."""
    if connection.vendor == "sqlite":
        # The shared in-memory test database fails at once instead of waiting
        # for the write lock; a real SQLite file waits (busy timeout), as
        # bench/bench_load.py shows. CI runs this test on PostgreSQL.
        pytest.skip("needs a database that waits for locks")
    patient = make_patient("tapper", "C-TAP")
    step = make_plan(patient, start=DUE.date()).steps.first()
    run_workers(8, lambda: StepCheck.objects.toggle(step=step, day=DUE.date()))
    assert StepCheck.objects.filter(step=step).count() <= 1
