import datetime as dt

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import signing

from portal.invitations import create_invitation
from portal.models import INVITATION_SALT, Invitation, Patient

NEW_PASSWORD = "Milia-care-2026!"


CAROL = {
    "first_name": "Carol",
    "last_name": "Nguyen",
    "email": "Carol@Example.org",
    "chart_number": "C-2001",
    "date_of_birth": "1979-05-06",
    "phone": "",
    "time_zone": "America/New_York",
    "preferred_language": "en",
    "morning_reminder_time": "08:00",
    "evening_reminder_time": "20:30",
}


@pytest.fixture
def invited(alice):
    """alice as the desk leaves a new patient: invited, with no password of her own yet."""
    alice.user.set_unusable_password()
    alice.user.save()
    return alice


def activate(client, token, password=NEW_PASSWORD):
    """The invitation page's form, posted."""
    return client.post(f"/accounts/activate/{token}/", {"new_password1": password, "new_password2": password})


def refused(response, reason: bytes) -> bool:
    """Whether the invitation page answered "gone" (410), saying why."""
    return response.status_code == 410 and reason in response.content


def register_patient(desk_client, **changes):
    response = desk_client.post("/admin/portal/patient/add/", {**CAROL, **changes})
    assert response.status_code == 302, response.content
    return Patient.objects.get(chart_number="C-2001")


def test_it_moves_the_login_with_a_corrected_email(desk_client, client):
    carol = register_patient(desk_client)
    fixed = {**CAROL, "email": "carol.nguyen@example.org"}
    assert desk_client.post(f"/admin/portal/patient/{carol.pk}/change/", fixed).status_code == 302
    carol.user.refresh_from_db()
    assert (carol.user.username, carol.user.email) == ("carol.nguyen@example.org", "carol.nguyen@example.org")
    carol.user.set_password(NEW_PASSWORD)
    carol.user.save()
    # However the patient capitalises it.
    response = client.post("/accounts/login/", {"username": "Carol.Nguyen@Example.org", "password": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"


def test_it_offers_staff_and_patients_the_same_time_zones(desk_client, client):
    response = desk_client.post("/admin/portal/patient/add/", {**CAROL, "time_zone": "EST"})
    assert response.status_code == 200
    assert not Patient.objects.exists()
    carol = register_patient(desk_client)
    Patient.objects.filter(pk=carol.pk).update(time_zone="Pacific/Kiritimati")
    client.force_login(carol.user)
    page = client.get("/reminders/").content.decode()
    assert '<option value="Pacific/Kiritimati" selected>' in page


def test_it_registers_a_patient_without_a_password_and_emails_an_invitation(desk_client, desk, mailoutbox):
    carol = register_patient(desk_client)
    assert carol.user.username == "carol@example.org"
    assert not carol.user.has_usable_password()

    response = desk_client.post(
        "/admin/portal/patient/", {"action": "send_portal_invitation", "_selected_action": [carol.pk]}
    )
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    invitation = Invitation.objects.get(patient=carol)
    assert invitation.created_by == desk
    assert f"/accounts/activate/{invitation.token}/" in mailoutbox[0].body


def test_it_activates_once(client, invited):
    invitation = create_invitation(patient=invited, sent_by=None)
    url = f"/accounts/activate/{invitation.token}/"

    assert client.get(url).status_code == 200
    response = activate(client, invitation.token)
    assert response.status_code == 302
    assert get_user_model().objects.get(pk=invited.user.pk).check_password(NEW_PASSWORD)

    client.logout()
    reused = activate(client, invitation.token, "Another-pass-99")
    assert reused.status_code == 410
    assert b"already been used" in reused.content
    assert b"ask the clinic" in reused.content
    assert get_user_model().objects.get(pk=invited.user.pk).check_password(NEW_PASSWORD)


def test_it_refuses_an_expired_invitation(client, invited, settings):
    with time_machine.travel(dt.datetime(2027, 1, 1, 12, tzinfo=dt.UTC), tick=False):
        invitation = create_invitation(patient=invited, sent_by=None)
        token = invitation.token
    later = dt.datetime(2027, 1, 1, 12, tzinfo=dt.UTC) + dt.timedelta(days=settings.INVITATION_MAX_AGE_DAYS, hours=1)
    with time_machine.travel(later, tick=False):
        assert refused(activate(client, token), b"expired")
    assert not get_user_model().objects.get(pk=invited.user.pk).has_usable_password()


def test_it_refuses_a_forged_token(client, invited):
    invitation = create_invitation(patient=invited, sent_by=None)
    forged = signing.dumps(invitation.pk, salt=INVITATION_SALT, key="not-our-secret-key-at-all")
    for token in (forged, "garbage", invitation.token[:-2] + "xx"):
        assert refused(activate(client, token), b"not valid"), token
    assert not get_user_model().objects.get(pk=invited.user.pk).has_usable_password()


def test_it_revokes_older_invitations_when_a_new_one_is_sent(client, invited):
    first = create_invitation(patient=invited, sent_by=None)
    create_invitation(patient=invited, sent_by=None)
    response = client.get(f"/accounts/activate/{first.token}/")
    assert response.status_code == 410


def test_it_rejects_a_weak_password_and_keeps_the_invitation(client, invited):
    invitation = create_invitation(patient=invited, sent_by=None)
    response = activate(client, invitation.token, "123")
    assert response.status_code == 200
    assert b"too short" in response.content
    invitation.refresh_from_db()
    assert invitation.used_at is None


def test_it_keeps_chart_numbers_in_capitals_and_unique_in_any_case(desk_client, alice):
    response = desk_client.post("/admin/portal/patient/add/", {**CAROL, "chart_number": " c-1001 "})
    assert response.status_code == 200
    assert "Another patient already has this chart number." in response.content.decode()
    assert "already exists" not in response.content.decode()  # one clear message, not two
    assert Patient.objects.count() == 1
    desk_client.post("/admin/portal/patient/add/", {**CAROL, "chart_number": "c-2001"})
    assert Patient.objects.filter(chart_number="C-2001").exists()


def test_it_holds_staff_to_the_same_reminder_rules_as_patients(desk_client):
    for changes, message in (
        ({"evening_reminder_time": "07:00"}, "The evening reminder must come after the morning one."),
        ({"sms_consent": "on", "phone": ""}, "Text-message reminders need a mobile number"),
    ):
        response = desk_client.post("/admin/portal/patient/add/", {**CAROL, **changes})
        assert response.status_code == 200 and message in response.content.decode()
    assert not Patient.objects.exists()
    paused = register_patient(desk_client, paused_until="2027-04-01")
    assert paused.reminders_paused is True
