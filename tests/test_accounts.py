from django.contrib.auth import get_user_model

from portal.backends import PatientModelBackend
from tests.factories import PASSWORD


def test_it_logs_a_patient_in_and_lands_on_today(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_it_sends_staff_to_the_admin(client, derm):
    client.post("/accounts/login/", {"username": "dana", "password": PASSWORD})
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_it_refuses_a_wrong_password(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert b"enter a correct username and password" in response.content


def test_it_logs_out_with_post_only(alice_client):
    assert alice_client.get("/accounts/logout/").status_code == 405
    response = alice_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in alice_client.session


def test_it_sends_anonymous_users_to_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_serves_the_login_page_with_the_clinic_name(client, db, settings):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert settings.CLINIC_NAME.encode() in response.content
    assert settings.CLINIC_PHONE.encode() in response.content
    assert b'href="#main"' in response.content


def test_it_resets_a_password_without_saying_whether_the_account_exists(client, alice, mailoutbox):
    known = client.post("/accounts/password_reset/", {"email": "alice@example.org"})
    unknown = client.post("/accounts/password_reset/", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert len(mailoutbox) == 1
    assert get_user_model().objects.get(username="alice").check_password(PASSWORD)


def test_it_loads_the_patient_record_with_the_session_user(client, alice, django_assert_num_queries):
    client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert client.session["_auth_user_backend"] == "portal.backends.PatientModelBackend"
    backend = PatientModelBackend()
    with django_assert_num_queries(1):
        user = backend.get_user(alice.user.pk)
        assert user.patient == alice


def test_it_gives_staff_no_patient_record_and_refuses_inactive_users(derm, alice):
    assert not hasattr(PatientModelBackend().get_user(derm.pk), "patient")
    get_user_model().objects.filter(pk=alice.user.pk).update(is_active=False)
    assert PatientModelBackend().get_user(alice.user.pk) is None
