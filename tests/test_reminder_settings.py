"""The patient's reminder settings page."""

import datetime as dt

import pytest
import time_machine

from reminders import planning
from reminders.models import Reminder
from tests.factories import MiliaCarePlanFactory

NOW = dt.datetime(2027, 3, 2, 12, 0, tzinfo=dt.UTC)


def signed_in(client, patient):
    client.force_login(patient.user)
    return client


def valid(**changes):
    data = {
        "morning_reminder_time": "07:15",
        "evening_reminder_time": "21:00",
        "time_zone": "Europe/Madrid",
        "email_consent": "on",
        "sends": "both",
        "digest_weekday": "6",
        "digest_time": "10:00",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_it_requires_login(client):
    response = client.get("/reminders/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_it_shows_the_form_and_calendar_link(alice, alice_client):
    response = alice_client.get("/reminders/")
    assert response.status_code == 200
    assert b"Save reminder settings" in response.content
    assert alice.calendar_token.encode() in response.content
    assert b'style="' not in response.content
    assert b"<script>" not in response.content


@time_machine.travel(NOW, tick=False)
def test_it_saves_and_replans(alice, client):
    # Signed in inside the frozen time, so the session is not already expired.
    alice_client = signed_in(client, alice)
    MiliaCarePlanFactory(patient=alice)
    response = alice_client.post("/reminders/", valid())
    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.morning_reminder_time, alice.evening_reminder_time) == (dt.time(7, 15), dt.time(21, 0))
    assert alice.time_zone == "Europe/Madrid"
    # 2 March 21:00 in Madrid (CET, UTC+1) is 20:00 UTC.
    assert Reminder.objects.filter(slot="evening", local_date=dt.date(2027, 3, 2)).get().due_at == dt.datetime(
        2027, 3, 2, 20, 0, tzinfo=dt.UTC
    )


@time_machine.travel(NOW, tick=False)
def test_it_keeps_the_planned_reminders_when_nothing_changed(alice, client):
    alice_client = signed_in(client, alice)
    MiliaCarePlanFactory(patient=alice)
    alice_client.post("/reminders/", valid())
    planned = set(Reminder.objects.values_list("pk", "due_at"))
    assert planned
    response = alice_client.post("/reminders/", valid())
    assert response.status_code == 302
    assert set(Reminder.objects.values_list("pk", "due_at")) == planned


@time_machine.travel(NOW, tick=False)
def test_it_pauses_until_a_date(alice, client):
    alice_client = signed_in(client, alice)
    response = alice_client.post("/reminders/", valid(paused_until="2027-03-10"))
    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.reminders_paused, alice.paused_until) == (True, dt.date(2027, 3, 10))


@time_machine.travel(NOW, tick=False)
def test_unticking_pause_ends_it_even_with_the_resume_date_left_in(alice, client):
    type(alice).objects.filter(pk=alice.pk).update(reminders_paused=True, paused_until=dt.date(2027, 3, 10))
    alice_client = signed_in(client, alice)
    response = alice_client.post("/reminders/", valid(paused_until="2027-03-10"))  # "Pause" unticked
    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.reminders_paused, alice.paused_until) == (False, None)


@time_machine.travel(NOW, tick=False)
def test_it_rejects_bad_input_and_changes_nothing(alice, client):
    alice_client = signed_in(client, alice)
    for bad in (
        valid(morning_reminder_time="25:99"),
        valid(time_zone="Mars/Olympus"),
        valid(morning_reminder_time="22:00"),
        valid(paused_until="2027-03-01"),
        valid(sms_consent="on"),
        valid(sends="everything"),
        valid(sends=None),
        valid(digest_weekday="7"),
        valid(digest_time="noon"),
    ):
        response = alice_client.post("/reminders/", bad)
        assert response.status_code == 400
        assert b"invalid-feedback" in response.content or b"is-invalid" in response.content
        alice.refresh_from_db()
        assert (alice.morning_reminder_time, alice.time_zone) == (dt.time(8, 0), "America/New_York")
        assert alice.sms_consent is False
        assert (alice.step_reminders, alice.weekly_digest, alice.digest_weekday) == (True, True, 6)


def test_it_refuses_a_digest_that_could_never_come_and_changes_nothing(alice, client):
    """The digest is an email: chosen without email consent, it would be saved and never sent."""
    alice_client = signed_in(client, alice)
    for sends in ("digest", "both"):
        response = alice_client.post("/reminders/", valid(sends=sends, email_consent=None, digest_weekday="2"))
        assert response.status_code == 400
        assert "The weekly digest comes by email" in response.content.decode()
        alice.refresh_from_db()
        assert (alice.digest_weekday, alice.morning_reminder_time) == (6, dt.time(8, 0))
    assert alice_client.post("/reminders/", valid(sends="steps", email_consent=None)).status_code == 302


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    "sends, switches",
    [("both", (True, True)), ("steps", (True, False)), ("digest", (False, True)), ("none", (False, False))],
)
def test_it_saves_what_the_patient_chose_to_get(alice, client, sends, switches):
    alice_client = signed_in(client, alice)
    response = alice_client.post("/reminders/", valid(sends=sends, digest_weekday="2", digest_time="18:30"))
    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.step_reminders, alice.weekly_digest) == switches
    assert (alice.digest_weekday, alice.digest_time) == (2, dt.time(18, 30))
    page = alice_client.get("/reminders/").content.decode()
    checked = [tag for tag in page.split("<input") if 'name="sends"' in tag and "checked" in tag]
    assert len(checked) == 1 and f'value="{sends}"' in checked[0]


@time_machine.travel(NOW, tick=False)
def test_it_replans_when_the_patient_turns_step_reminders_off(alice, client):
    alice_client = signed_in(client, alice)
    MiliaCarePlanFactory(patient=alice)
    alice_client.post("/reminders/", valid())
    assert Reminder.objects.filter(slot__in=["morning", "evening"], due_at__gt=NOW).exists()
    alice_client.post("/reminders/", valid(sends="digest"))
    assert not Reminder.objects.filter(slot__in=["morning", "evening"], due_at__gt=NOW).exists()


def test_it_is_for_patients_only(derm_client):
    assert derm_client.get("/reminders/").status_code == 404


@time_machine.travel(NOW, tick=False)
def test_it_replans_when_staff_change_the_times_in_the_admin(alice, derm, desk, client):
    MiliaCarePlanFactory(patient=alice)
    planning.plan_reminders(now=NOW)
    evening = Reminder.objects.filter(slot="evening", local_date=dt.date(2027, 3, 2))
    # 20:30 in New York (EST, UTC-5) is 01:30 UTC the next day.
    assert evening.get().due_at == dt.datetime(2027, 3, 3, 1, 30, tzinfo=dt.UTC)
    client.force_login(desk)
    data = {
        "first_name": alice.user.first_name,
        "last_name": alice.user.last_name,
        "email": alice.user.email,
        "chart_number": alice.chart_number,
        "date_of_birth": "1990-01-01",
        "phone": alice.phone,
        "time_zone": alice.time_zone,
        "preferred_language": alice.preferred_language,
        "dermatologist": derm.pk,
        "email_consent": "on",
        "morning_reminder_time": "08:00",
        "evening_reminder_time": "21:45",
    }
    response = client.post(f"/admin/portal/patient/{alice.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert evening.get().due_at == dt.datetime(2027, 3, 3, 2, 45, tzinfo=dt.UTC)
