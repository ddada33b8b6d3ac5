"""Two workers at once send each due reminder exactly once.

Real threads with their own database connections against committed data, on
SQLite and on PostgreSQL (the suite also runs with DATABASE_URL=postgres://…).
"""

from collections import Counter

import pytest
from django.db import connection

from reminders import planning, sending
from reminders.models import Reminder
from routines import schedule
from routines.models import StepCheck
from tests.factories import MiliaCarePlanFactory, PatientFactory, utc
from tests.workers import run_workers

DUE = utc(2027, 3, 2, 13, 0)
PATIENTS = 40
SUNSCREEN_MORNING = [dict(slot=schedule.MORNING, instructions="Sunscreen")]


def plan_due_mornings(count: int) -> list[int]:
    """`count` patients who consent to email, each with one morning step due at DUE; the due reminders' ids."""
    for _ in range(count):
        MiliaCarePlanFactory(patient=PatientFactory(email_consent=True), steps=SUNSCREEN_MORNING)
    planning.plan_reminders(now=DUE)
    return list(Reminder.objects.filter(due_at=DUE).values_list("pk", flat=True))


def assert_everyone_emailed_once(mailoutbox):
    recipients = Counter(address for email in mailoutbox for address in email.to)
    assert len(recipients) == PATIENTS
    assert set(recipients.values()) == {1}
    assert Reminder.objects.filter(due_at=DUE, status="sent").count() == PATIENTS


@pytest.mark.django_db(transaction=True)
def test_it_sends_each_reminder_once_with_two_workers(mailoutbox):
    assert len(plan_due_mornings(PATIENTS)) == PATIENTS

    def drain():
        # Small leases, so the two workers keep leasing side by side.
        while sending.send_due(now=DUE, batch_size=3):
            pass

    run_workers(2, drain)
    assert_everyone_emailed_once(mailoutbox)


@pytest.mark.django_db(transaction=True)
def test_it_sends_each_reminder_once_when_two_workers_hold_the_same_rows(mailoutbox):
    """As after a lease ran out while its worker was still sending: the per-row claim decides."""
    ids = plan_due_mornings(PATIENTS)

    def send_all():
        sent = [r.pk for r in sending.load(ids) if sending.send_one(r, now=DUE, hidden_words=[]) == "sending"]
        sending.settle(Reminder.objects.filter(pk__in=sent))

    run_workers(2, send_all)
    assert_everyone_emailed_once(mailoutbox)


@pytest.mark.django_db(transaction=True)
def test_it_lets_only_one_of_two_racing_claims_win():
    # No cast fixtures here: a transactional test flushes the groups they need.
    (reminder_id,) = plan_due_mornings(1)
    reminder = Reminder.objects.get(pk=reminder_id)
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
    step = MiliaCarePlanFactory(start_date=DUE.date()).steps.first()
    run_workers(8, lambda: StepCheck.objects.toggle(step=step, day=DUE.date()))
    assert StepCheck.objects.filter(step=step).count() <= 1
