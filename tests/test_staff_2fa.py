from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from education.models import Article
from portal.invitations import create_invitation
from tests.factories import PASSWORD, ArticleFactory


def current_code(device):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def test_it_lets_staff_into_the_admin_with_a_password_when_2fa_is_off(client, derm, settings):
    settings.STAFF_2FA_REQUIRED = False
    client.post("/accounts/login/", {"username": "dana", "password": PASSWORD})
    assert client.get("/admin/").status_code == 200


def test_it_requires_a_totp_code_from_staff_when_2fa_is_required(client, derm, settings):
    settings.STAFF_2FA_REQUIRED = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # no back-off after the deliberate wrong code below
    device = TOTPDevice.objects.create(user=derm, name="phone", confirmed=True)
    client.post("/accounts/login/", {"username": "dana", "password": PASSWORD})
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")

    wrong = client.post(
        "/admin/login/?next=/admin/",
        {"username": "dana", "password": PASSWORD, "otp_device": device.persistent_id, "otp_token": "000000"},
    )
    assert wrong.status_code == 200
    assert client.get("/admin/").status_code == 302

    right = client.post(
        "/admin/login/?next=/admin/",
        {
            "username": "dana",
            "password": PASSWORD,
            "otp_device": device.persistent_id,
            "otp_token": current_code(device),
        },
    )
    assert right.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_it_asks_staff_for_the_totp_code_before_printing_patient_handouts(client, derm, alice, settings):
    settings.STAFF_2FA_REQUIRED = True
    device = TOTPDevice.objects.create(user=derm, name="phone", confirmed=True)
    alice.user.set_unusable_password()
    alice.user.save()
    create_invitation(patient=alice, sent_by=derm)
    url = f"/handouts/patients/{alice.pk}/invite.pdf"
    client.post("/accounts/login/", {"username": "dana", "password": PASSWORD})
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=")
    code = {"otp_device": device.persistent_id, "otp_token": current_code(device)}
    client.post(response["Location"], {"username": "dana", "password": PASSWORD, **code})
    assert client.get(url).status_code == 200


def test_it_still_refuses_staff_handouts_to_patients_when_2fa_is_required(alice_client, bob, settings):
    settings.STAFF_2FA_REQUIRED = True
    assert alice_client.get(f"/handouts/patients/{bob.pk}/plan.pdf").status_code == 403
    assert alice_client.get("/reminders/").status_code == 200  # patients never need a code


def test_it_asks_for_the_code_on_every_staff_page_outside_the_admin_too(client, derm, settings):
    settings.STAFF_2FA_REQUIRED = True
    ArticleFactory(slug="draft-one", status=Article.Status.DRAFT)
    client.post("/accounts/login/", {"username": "dana", "password": PASSWORD})
    for path in ("/learn/draft-one/", "/learn/", "/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/admin/login/?next="), path
    assert client.get("/admin/login/").status_code == 200
    assert client.get("/accounts/login/").status_code == 200  # someone else may sign in on this computer
    assert client.post("/accounts/logout/").status_code == 302
    assert "_auth_user_id" not in client.session
