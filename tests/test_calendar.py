"""The reminder calendar feed."""

import datetime as dt

import icalendar
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from routines import schedule
from tests.factories import MILIA_CARE_STEPS, ConditionFactory, PlanFactory


def feed(client, patient):
    return client.get(f"/reminders/calendar/{patient.calendar_token}.ics")


@time_machine.travel(dt.datetime(2027, 3, 2, 15, 0, tzinfo=dt.UTC), tick=False)
def test_it_serves_one_daily_event_per_slot_at_local_times(alice, client):
    ConditionFactory(name="Milia")
    PlanFactory(patient=alice, start_date=dt.date(2027, 3, 1), end_date=dt.date(2027, 6, 1), steps=MILIA_CARE_STEPS)
    response = feed(client, alice)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(response.content)
    events = {str(e["summary"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {"Morning skin care routine", "Evening skin care routine"}

    morning = events["Morning skin care routine"].decoded("dtstart")
    evening = events["Evening skin care routine"].decoded("dtstart")
    assert (morning.date(), morning.time(), morning.tzinfo.key) == (
        dt.date(2027, 3, 1),
        dt.time(8, 0),
        "America/New_York",
    )
    assert (evening.time(), evening.tzinfo.key) == (dt.time(20, 30), "America/New_York")
    assert events["Evening skin care routine"]["rrule"]["FREQ"] == ["DAILY"]
    assert cal.walk("VTIMEZONE")[0]["tzid"] == "America/New_York"
    alarms = events["Morning skin care routine"].walk("VALARM")
    assert alarms and alarms[0].decoded("trigger") == dt.timedelta(0)

    description = str(events["Evening skin care routine"]["description"])
    assert "Glycolic acid, thin layer (every other evening)" in description
    assert "milia" not in response.content.decode().lower()


@time_machine.travel(dt.datetime(2027, 3, 2, 15, 0, tzinfo=dt.UTC), tick=False)
def test_it_serves_the_feed_in_as_many_queries_for_ten_steps_as_for_two(alice, bob, client):
    # Calendar apps poll the feed every few hours, for every subscribed patient.
    start = dt.date(2027, 3, 1)
    PlanFactory(patient=alice, start_date=start, steps=[{"slot": schedule.MORNING}, {"slot": schedule.EVENING}])
    PlanFactory(patient=bob, start_date=start, steps=[{"slot": schedule.MORNING}] * 10)
    queries = []
    for patient in (alice, bob):
        with CaptureQueriesContext(connection) as ctx:
            assert feed(client, patient).status_code == 200
        queries.append(len(ctx.captured_queries))
    assert queries[0] == queries[1]


def test_it_answers_404_for_an_unknown_token(alice, client):
    assert client.get("/reminders/calendar/not-a-token.ics").status_code == 404


def test_it_rotates_the_link(alice, alice_client):
    old = alice.calendar_token
    response = alice_client.post("/reminders/calendar/regenerate/")
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.calendar_token != old
    assert alice_client.get(f"/reminders/calendar/{old}.ics").status_code == 404
    assert feed(alice_client, alice).status_code == 200
