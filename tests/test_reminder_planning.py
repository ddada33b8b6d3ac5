"""Planning creates one reminder per plan, slot, local date and consented channel."""

import datetime as dt

from reminders import planning
from reminders.models import Reminder
from routines import schedule
from tests.factories import MiliaCarePlanFactory, utc

# 2027-03-02 12:00 UTC is 07:00 in New York (EST).
NOW = utc(2027, 3, 2, 12, 0)


def test_it_is_idempotent(alice):
    MiliaCarePlanFactory(patient=alice)
    planning.plan_reminders(now=NOW)
    first = sorted(Reminder.objects.values_list("plan", "slot", "local_date", "channel", "due_at"))
    planning.plan_reminders(now=NOW)
    planning.plan_reminders(now=NOW + dt.timedelta(minutes=5))
    again = sorted(Reminder.objects.values_list("plan", "slot", "local_date", "channel", "due_at"))
    assert first == again
    assert len(first) > 0


def test_it_plans_the_window_at_local_times(alice):
    MiliaCarePlanFactory(patient=alice)
    planning.plan_reminders(now=NOW)
    rows = list(Reminder.objects.order_by("due_at").values_list("slot", "local_date", "due_at"))
    # now-2h .. now+36h (4 Mar 00:00 UTC): 2 Mar 08:00 and 20:30, 3 Mar 08:00 (EST = UTC-5).
    assert rows == [
        ("morning", dt.date(2027, 3, 2), utc(2027, 3, 2, 13, 0)),
        ("evening", dt.date(2027, 3, 2), utc(2027, 3, 3, 1, 30)),
        ("morning", dt.date(2027, 3, 3), utc(2027, 3, 3, 13, 0)),
    ]


def test_it_does_not_backfill_history(alice):
    MiliaCarePlanFactory(patient=alice, start_date=dt.date(2026, 1, 1))
    planning.plan_reminders(now=NOW)
    assert not Reminder.objects.filter(due_at__lt=NOW - dt.timedelta(hours=2)).exists()


def test_it_plans_a_slot_only_on_days_with_a_step_due(alice):
    alice.weekly_digest = False  # its Sunday email is no slot (test_digest covers it)
    alice.save()
    # Evening step every other day from 1 March: due 1, 3, 5 March.
    MiliaCarePlanFactory(
        patient=alice,
        start_date=dt.date(2027, 3, 1),
        steps=[
            dict(
                slot=schedule.EVENING,
                instructions="Glycolic acid",
                frequency=schedule.EVERY_N_DAYS,
                interval_days=2,
                offset_days=0,
            )
        ],
    )
    for hours in range(0, 24 * 5, 12):
        planning.plan_reminders(now=NOW + dt.timedelta(hours=hours))
    days = sorted(Reminder.objects.values_list("local_date", flat=True))
    assert days == [dt.date(2027, 3, 3), dt.date(2027, 3, 5), dt.date(2027, 3, 7)]
    assert set(Reminder.objects.values_list("slot", flat=True)) == {"evening"}


def test_it_plans_one_row_per_consented_channel(alice, bob):
    alice.sms_consent = True
    alice.phone = "+15550100"
    alice.save()
    bob.email_consent = False
    bob.save()
    MiliaCarePlanFactory(patient=alice, steps=[dict(slot=schedule.MORNING, instructions="Sunscreen")])
    MiliaCarePlanFactory(patient=bob, steps=[dict(slot=schedule.MORNING, instructions="Sunscreen")])
    planning.plan_reminders(now=NOW)
    assert sorted(Reminder.objects.filter(local_date=dt.date(2027, 3, 2)).values_list("patient", "channel")) == [
        (alice.pk, "email"),
        (alice.pk, "sms"),
    ]


def test_it_skips_plans_not_running(alice):
    MiliaCarePlanFactory(patient=alice, status="ended")
    MiliaCarePlanFactory(patient=alice, start_date=dt.date(2027, 6, 1))
    planning.plan_reminders(now=NOW)
    assert not Reminder.objects.exists()


def test_it_replans_after_the_patient_changes_a_time(alice):
    MiliaCarePlanFactory(patient=alice, steps=[dict(slot=schedule.EVENING, instructions="Moisturizer")])
    planning.plan_reminders(now=NOW)
    alice.evening_reminder_time = dt.time(21, 15)
    alice.save()
    planning.replan_patient(patient=alice, now=NOW)
    due = list(Reminder.objects.order_by("due_at").values_list("due_at", flat=True))
    assert due == [utc(2027, 3, 3, 2, 15)]
