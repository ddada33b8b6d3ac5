import datetime as dt
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routines import schedule


def step(frequency=schedule.DAILY, *, slot=schedule.EVENING, interval_days=1, offset_days=0, weekdays=""):
    return SimpleNamespace(
        slot=slot, frequency=frequency, interval_days=interval_days, offset_days=offset_days, weekdays=weekdays
    )


dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31))


def test_it_alternates_every_other_evening():
    start = dt.date(2027, 3, 3)
    glycolic = step(schedule.EVERY_N_DAYS, interval_days=2, offset_days=0)
    retinol = step(schedule.EVERY_N_DAYS, interval_days=2, offset_days=1)
    days = [start + dt.timedelta(n) for n in range(4)]
    assert [schedule.is_due(glycolic, d, start=start, end=None) for d in days] == [True, False, True, False]
    assert [schedule.is_due(retinol, d, start=start, end=None) for d in days] == [False, True, False, True]


def test_it_is_never_due_before_start_or_after_end():
    daily = step()
    start, end = dt.date(2027, 3, 3), dt.date(2027, 3, 5)
    assert not schedule.is_due(daily, dt.date(2027, 3, 2), start=start, end=end)
    assert schedule.is_due(daily, start, start=start, end=end)
    assert schedule.is_due(daily, end, start=start, end=end)
    assert not schedule.is_due(daily, dt.date(2027, 3, 6), start=start, end=end)


def test_it_never_schedules_as_needed_steps():
    assert not schedule.is_due(step(schedule.AS_NEEDED), dt.date(2027, 3, 3), start=dt.date(2027, 1, 1), end=None)


def test_it_groups_due_steps_by_slot_in_order():
    a, b, c = step(slot=schedule.MORNING), step(slot=schedule.EVENING), step(slot=schedule.MORNING)
    due = schedule.due_by_slot([a, b, c], dt.date(2027, 3, 3), start=dt.date(2027, 3, 1), end=None)
    assert due == {schedule.MORNING: [a, c], schedule.EVENING: [b], schedule.ANY_TIME: []}


def test_it_describes_frequencies_in_plain_words():
    assert schedule.describe(step(schedule.EVERY_N_DAYS, interval_days=2)) == "Every other evening"
    assert schedule.describe(step(slot=schedule.MORNING)) == "Every morning"
    assert schedule.describe(step(schedule.WEEKDAYS, weekdays="420", slot=schedule.ANY_TIME)) == "Mon, Wed, Fri"
    assert schedule.describe(step(schedule.AS_NEEDED)) == "As needed"


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"frequency": schedule.EVERY_N_DAYS, "interval_days": 0, "offset_days": 0, "weekdays": ""}, "interval_days"),
        ({"frequency": schedule.EVERY_N_DAYS, "interval_days": 2, "offset_days": 2, "weekdays": ""}, "offset_days"),
        ({"frequency": schedule.WEEKDAYS, "interval_days": 1, "offset_days": 0, "weekdays": ""}, "weekdays"),
        ({"frequency": schedule.WEEKDAYS, "interval_days": 1, "offset_days": 0, "weekdays": "7"}, "weekdays"),
    ],
)
def test_it_reports_impossible_schedules(fields, field):
    assert field in schedule.schedule_errors(**fields)


@given(start=dates, day=dates, interval=st.integers(1, 30))
def test_it_makes_alternating_steps_cover_every_date_exactly_once(start, day, interval):
    steps = [step(schedule.EVERY_N_DAYS, interval_days=interval, offset_days=k) for k in range(interval)]
    due = [schedule.is_due(s, day, start=start, end=None) for s in steps]
    if day < start:
        assert not any(due)
    else:
        assert due.count(True) == 1


@given(start=dates, length=st.integers(0, 400), day=dates, interval=st.integers(1, 10), data=st.data())
def test_it_is_never_due_outside_the_plan(start, length, day, interval, data):
    end = start + dt.timedelta(length)
    offset = data.draw(st.integers(0, interval - 1))
    weekdays = "".join(sorted(data.draw(st.sets(st.sampled_from("0123456"), min_size=1))))
    for s in (
        step(),
        step(schedule.EVERY_N_DAYS, interval_days=interval, offset_days=offset),
        step(schedule.WEEKDAYS, weekdays=weekdays),
    ):
        if day < start or day > end:
            assert not schedule.is_due(s, day, start=start, end=end)


@given(year=st.integers(2000, 2099), weekdays=st.sets(st.sampled_from("0123456"), min_size=1))
def test_it_keeps_weekday_rules_across_month_and_year_ends(year, weekdays):
    s = step(schedule.WEEKDAYS, weekdays="".join(sorted(weekdays)))
    start = dt.date(year, 12, 1)
    for n in range(75):  # December into February, across the year end and a month end
        day = start + dt.timedelta(n)
        assert schedule.is_due(s, day, start=start, end=None) == (str(day.weekday()) in weekdays)
    week = [start + dt.timedelta(n) for n in range(31, 38)]
    assert sum(schedule.is_due(s, d, start=start, end=None) for d in week) == len(weekdays)
