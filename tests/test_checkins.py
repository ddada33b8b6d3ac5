"""Irritation check-ins: one tap a day; too many bad days flag the patient for their dermatologist, once."""

import datetime as dt
import re
import smtplib
from unittest import mock

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from portal.models import AccessLog
from routines import checkins
from routines.models import IrritationFlag, SkinCheckIn
from tests.factories import TODAY, PlanFactory, SkinCheckInFactory

F = SkinCheckIn.Feeling
LOCMEM_SEND = "django.core.mail.backends.locmem.EmailBackend.send_messages"


pytestmark = pytest.mark.usefixtures("frozen")


def _tap(client, feeling):
    return client.post("/skin/", {"feeling": feeling})


def _answer(patient, day, feeling, capture):
    """Record an answer as the view does, running on-commit callbacks (the email) at once."""
    with capture(execute=True):
        return checkins.record_check_in(patient=patient, day=day, feeling=feeling, now=NOON_UTC_DT)


NOON_UTC_DT = dt.datetime(2027, 3, 10, 17, tzinfo=dt.UTC)


# --- The threshold ------------------------------------------------------------------

answers = st.lists(
    st.tuples(st.integers(0, 13).map(lambda n: TODAY - dt.timedelta(n)), st.sampled_from(F.values)), max_size=10
)


@given(answers)
def test_it_flags_two_red_and_sore_or_three_not_fine_within_seven_days(answers):
    window = [feeling for day, feeling in answers if (TODAY - day).days < 7]
    expected = window.count(F.RED_AND_SORE) >= 2 or sum(f != F.FINE for f in window) >= 3
    assert bool(checkins.flag_reason(answers, today=TODAY)) == expected


def test_it_words_the_reason():
    d = [TODAY - dt.timedelta(n) for n in range(8)]
    assert checkins.flag_reason([(d[0], F.RED_AND_SORE), (d[3], F.RED_AND_SORE)], today=TODAY) == (
        "“Red and sore” 2 times in 7 days"
    )
    assert checkins.flag_reason([(d[0], F.DRY), (d[1], F.STINGING), (d[6], F.PEELING)], today=TODAY) == (
        "Skin not fine 3 times in 7 days"
    )
    assert checkins.flag_reason([(d[0], F.DRY), (d[1], F.STINGING), (d[7], F.PEELING)], today=TODAY) == ""
    assert checkins.flag_reason([(d[0], F.RED_AND_SORE), (d[1], F.FINE), (d[2], F.FINE)], today=TODAY) == ""


# --- The patient's tap ----------------------------------------------------------------


def test_it_offers_the_check_in_on_the_today_page(alice_client, alice):
    PlanFactory(patient=alice)
    html = alice_client.get("/").content.decode()
    assert "How does your skin feel today?" in html
    for value, label in F.choices:
        assert f'value="{value}"' in html and str(label) in html
    assert 'action="/skin/"' in html and 'name="feeling"' in html


def test_it_records_one_answer_per_local_day(alice_client, alice, frozen):
    PlanFactory(patient=alice)
    response = _tap(alice_client, F.DRY)
    assert response.status_code == 302 and response.url == "/#skin"
    _tap(alice_client, F.STINGING)  # changes today's answer
    assert list(SkinCheckIn.objects.values_list("local_date", "feeling")) == [(TODAY, F.STINGING)]
    html = alice_client.get("/").content.decode()
    assert "You said: <strong>stinging</strong>" in html
    skin = html[html.index('id="skin"') :]
    pressed = re.findall(r'value="(\w+)" class="btn btn-primary feeling-\1" aria-pressed="true"', skin)
    assert pressed == ["stinging"] and skin.count('aria-pressed="false"') == len(F) - 1
    assert AccessLog.objects.filter(patient=alice, what="Skin check-in: stinging").exists()
    frozen.move_to("2027-03-11T05:00:00Z")  # midnight in New York: 11 March locally
    _tap(alice_client, F.FINE)
    assert SkinCheckIn.objects.count() == 2 and SkinCheckIn.objects.filter(local_date=dt.date(2027, 3, 11)).exists()


@pytest.mark.parametrize("junk", ["", "awful", "💥", "fine' OR 1=1"])
def test_it_refuses_an_unknown_answer(alice_client, junk):
    response = alice_client.post("/skin/", {"feeling": junk}, follow=True)
    assert "Please choose how your skin feels." in response.content.decode()
    assert not SkinCheckIn.objects.exists()


def test_it_needs_a_logged_in_patient_a_post_and_csrf(client, alice, derm_client):
    assert derm_client.post("/skin/", {"feeling": F.DRY}).status_code == 404
    anonymous = Client()
    assert anonymous.post("/skin/", {"feeling": F.DRY}).url.startswith("/accounts/login/")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice.user)
    assert strict.post("/skin/", {"feeling": F.DRY}).status_code == 403
    assert strict.get("/skin/").status_code == 405
    assert not SkinCheckIn.objects.exists()


# --- Flags and the dermatologist's email ------------------------------------------------


def test_it_flags_and_emails_the_dermatologist_once_per_episode(
    alice_client, alice, mailoutbox, django_capture_on_commit_callbacks
):
    PlanFactory(patient=alice)
    _answer(alice, TODAY - dt.timedelta(6), F.RED_AND_SORE, django_capture_on_commit_callbacks)
    assert not IrritationFlag.objects.exists() and mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        _tap(alice_client, F.RED_AND_SORE)
    flag = IrritationFlag.objects.get()
    assert flag.reason == "“Red and sore” 2 times in 7 days" and flag.raised_on == TODAY
    assert flag.notified_at is not None
    email = mailoutbox[0]
    assert email.to == ["dana@example.org"] and "C-1001" in email.subject
    text = " ".join([email.subject, email.body, email.alternatives[0][0]])
    assert "Alice" not in text and "Tester" not in text  # chart number only: email is not private
    assert f"/admin/portal/patient/{alice.pk}/change/" in email.body

    alice_client.get("/")  # shows (and uses up) the message about the flag
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post("/skin/", {"feeling": F.PEELING}, follow=True)
    html = response.content.decode()
    assert "Thank you: noted for today." in html and "we have let your dermatologist know" not in html
    assert IrritationFlag.objects.count() == 1 and len(mailoutbox) == 1  # the episode is already flagged


def test_it_tells_the_patient_when_their_answer_raises_a_flag(alice_client, alice, django_capture_on_commit_callbacks):
    PlanFactory(patient=alice)
    SkinCheckInFactory(patient=alice, local_date=TODAY - dt.timedelta(1), feeling=F.RED_AND_SORE)
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post("/skin/", {"feeling": F.RED_AND_SORE}, follow=True)
    assert "we have let your dermatologist know" in response.content.decode()
    assert "(555) 010-2030" in response.content.decode()


def test_it_needs_new_answers_after_a_review_to_flag_again(alice, derm, mailoutbox, django_capture_on_commit_callbacks):
    for n in (3, 2):
        _answer(alice, TODAY - dt.timedelta(n), F.RED_AND_SORE, django_capture_on_commit_callbacks)
    flag = IrritationFlag.objects.get()
    assert flag.raised_on == TODAY - dt.timedelta(2)

    derm_client = Client()
    derm_client.force_login(derm)
    response = derm_client.post(
        "/admin/routines/irritationflag/", {"action": "mark_reviewed", "_selected_action": [flag.pk]}
    )
    assert response.status_code == 302
    flag.refresh_from_db()
    assert flag.reviewed_by == derm and flag.reviewed_at is not None
    reviewed_at = flag.reviewed_at
    derm_client.post("/admin/routines/irritationflag/", {"action": "mark_reviewed", "_selected_action": [flag.pk]})
    flag.refresh_from_db()
    assert flag.reviewed_at == reviewed_at  # a second click does not move the review (the end of a ramp hold)

    _answer(alice, TODAY - dt.timedelta(1), F.RED_AND_SORE, django_capture_on_commit_callbacks)
    assert IrritationFlag.objects.count() == 1  # the two old answers belong to the reviewed episode
    _answer(alice, TODAY, F.RED_AND_SORE, django_capture_on_commit_callbacks)
    assert IrritationFlag.objects.count() == 2 and IrritationFlag.objects.open().count() == 1
    assert len(mailoutbox) == 2


def test_it_flags_without_email_when_no_dermatologist_is_assigned(
    alice, mailoutbox, django_capture_on_commit_callbacks
):
    alice.dermatologist = None
    alice.save()
    for n in (2, 1, 0):
        _answer(alice, TODAY - dt.timedelta(n), F.DRY, django_capture_on_commit_callbacks)
    assert IrritationFlag.objects.open().count() == 1 and mailoutbox == []


def test_it_emails_only_after_commit(alice, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for n in (1, 0):
            checkins.record_check_in(
                patient=alice, day=TODAY - dt.timedelta(n), feeling=F.RED_AND_SORE, now=NOON_UTC_DT
            )
    assert len(callbacks) == 1 and mailoutbox == []


def test_it_keeps_the_flag_when_the_email_fails(alice, mailoutbox, django_capture_on_commit_callbacks):
    with mock.patch(LOCMEM_SEND, side_effect=smtplib.SMTPServerDisconnected("down")):
        for n in (1, 0):
            _answer(alice, TODAY - dt.timedelta(n), F.RED_AND_SORE, django_capture_on_commit_callbacks)
    flag = IrritationFlag.objects.get()
    assert flag.notified_at is None and mailoutbox == []  # still open in the admin, marked not notified


# --- The admin ---------------------------------------------------------------------------


def test_it_badges_and_filters_flagged_patients_for_dermatologists(alice, bob, derm, desk):
    IrritationFlag.objects.create(patient=alice, raised_on=TODAY, reason="“Red and sore” 2 times in 7 days")
    SkinCheckInFactory(patient=alice, local_date=TODAY, feeling=F.RED_AND_SORE)
    client = Client()
    client.force_login(derm)
    listing = client.get("/admin/portal/patient/?skin=flagged").content.decode()
    assert "C-1001" in listing and "C-1002" not in listing and "skin-flag-badge" in listing
    page = client.get(f"/admin/portal/patient/{alice.pk}/change/").content.decode()
    assert "Skin flagged" in page and "“Red and sore” 2 times in 7 days" in page and "red and sore" in page
    assert "css/routines.css" in page

    client.force_login(desk)  # the front desk sees no clinical check-ins
    listing = client.get("/admin/portal/patient/").content.decode()
    assert "skin-flag-badge" not in listing and "?skin=flagged" not in listing
    assert "Skin flagged" not in client.get(f"/admin/portal/patient/{alice.pk}/change/").content.decode()
    assert client.get("/admin/routines/irritationflag/").status_code == 403
