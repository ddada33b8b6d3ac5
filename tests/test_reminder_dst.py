"""Reminder times are the patient's wall-clock times, across daylight-saving changes."""

import datetime as dt
import zoneinfo

import pytest

from reminders import planning
from reminders.models import Reminder
from routines import schedule
from tests.factories import MiliaCarePlanFactory, PatientFactory, utc

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
SYDNEY = zoneinfo.ZoneInfo("Australia/Sydney")


def test_it_moves_a_nonexistent_time_to_the_first_valid_minute_in_new_york():
    # 2027-03-14: clocks jump from 02:00 EST to 03:00 EDT.
    assert planning.local_due_at(dt.date(2027, 3, 14), dt.time(2, 30), NEW_YORK) == utc(2027, 3, 14, 7, 0)


def test_it_uses_the_first_occurrence_of_an_ambiguous_time_in_new_york():
    # 2027-11-07: 01:00-02:00 happens twice; the first (EDT, UTC-4) wins.
    assert planning.local_due_at(dt.date(2027, 11, 7), dt.time(1, 30), NEW_YORK) == utc(2027, 11, 7, 5, 30)


def test_it_keeps_ordinary_times_on_new_york_change_days():
    assert planning.local_due_at(dt.date(2027, 3, 14), dt.time(8, 0), NEW_YORK) == utc(2027, 3, 14, 12, 0)
    assert planning.local_due_at(dt.date(2027, 3, 13), dt.time(8, 0), NEW_YORK) == utc(2027, 3, 13, 13, 0)
    assert planning.local_due_at(dt.date(2027, 11, 7), dt.time(20, 30), NEW_YORK) == utc(2027, 11, 8, 1, 30)


def test_it_moves_a_nonexistent_time_to_the_first_valid_minute_in_sydney():
    # 2027-10-03: clocks jump from 02:00 AEST to 03:00 AEDT.
    assert planning.local_due_at(dt.date(2027, 10, 3), dt.time(2, 15), SYDNEY) == utc(2027, 10, 2, 16, 0)


def test_it_uses_the_first_occurrence_of_an_ambiguous_time_in_sydney():
    # 2027-04-04: 02:00-03:00 happens twice; the first (AEDT, UTC+11) wins.
    assert planning.local_due_at(dt.date(2027, 4, 4), dt.time(2, 30), SYDNEY) == utc(2027, 4, 3, 15, 30)


@pytest.mark.parametrize(
    ("zone", "day", "at", "expected"),
    [
        ("America/New_York", dt.date(2027, 3, 14), dt.time(2, 30), utc(2027, 3, 14, 7, 0)),
        ("America/New_York", dt.date(2027, 11, 7), dt.time(1, 30), utc(2027, 11, 7, 5, 30)),
        ("Australia/Sydney", dt.date(2027, 10, 3), dt.time(2, 30), utc(2027, 10, 2, 16, 0)),
        ("Australia/Sydney", dt.date(2027, 4, 4), dt.time(2, 30), utc(2027, 4, 3, 15, 30)),
    ],
)
def test_it_plans_exactly_one_reminder_on_change_days(db, zone, day, at, expected):
    # No weekly digest: clocks change on Sundays, the digest's default day (test_digest covers it).
    patient = PatientFactory(email_consent=True, weekly_digest=False, time_zone=zone, morning_reminder_time=at)
    plan = MiliaCarePlanFactory(
        patient=patient,
        steps=[dict(slot=schedule.MORNING, instructions="Gentle cleanser")],
        start_date=day - dt.timedelta(days=5),
    )
    # Two planning passes across the whole change day.
    planning.plan_reminders(now=expected - dt.timedelta(hours=20))
    planning.plan_reminders(now=expected + dt.timedelta(hours=1))
    rows = Reminder.objects.filter(plan=plan, local_date=day)
    assert [r.due_at for r in rows] == [expected]
    # And the days around it are not doubled or lost either.
    for other in (day - dt.timedelta(days=1), day + dt.timedelta(days=1)):
        planning.plan_reminders(now=planning.local_due_at(other, at, zoneinfo.ZoneInfo(zone)))
        assert Reminder.objects.filter(plan=plan, local_date=other).count() == 1
