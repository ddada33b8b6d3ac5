"""One-click opt-out from a reminder email (RFC 8058)."""

from django.core import signing
from django.test import Client

from reminders import sending


def url(token):
    return f"/reminders/unsubscribe/{token}/"


def test_it_asks_before_unsubscribing(alice, client):
    response = client.get(url(sending.unsubscribe_token(alice, "email")))
    assert response.status_code == 200
    assert b"Stop email reminders?" in response.content
    alice.refresh_from_db()
    assert alice.email_consent is True


def test_it_unsubscribes_on_post(alice, client):
    response = client.post(url(sending.unsubscribe_token(alice, "email")))
    assert response.status_code == 200
    alice.refresh_from_db()
    assert alice.email_consent is False


def test_it_accepts_the_one_click_post_without_a_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        url(sending.unsubscribe_token(alice, "email")),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    alice.refresh_from_db()
    assert alice.email_consent is False


def test_it_refuses_a_forged_token(alice, bob, client):
    forged = signing.dumps({"p": bob.pk, "c": "email"}, salt="not-the-salt")
    tampered = sending.unsubscribe_token(alice, "email").replace(":", ":x", 1)
    for token in (forged, tampered, "nonsense"):
        response = client.post(url(token))
        assert response.status_code == 400
        assert b"not valid" in response.content
    bob.refresh_from_db()
    alice.refresh_from_db()
    assert bob.email_consent and alice.email_consent


def test_it_refuses_another_patients_token_when_signed_in(alice_client, bob):
    response = alice_client.post(url(sending.unsubscribe_token(bob, "email")))
    assert response.status_code == 403
    bob.refresh_from_db()
    assert bob.email_consent is True


def test_it_unsubscribes_one_channel_only(alice, client):
    alice.sms_consent = True
    alice.save()
    client.post(url(sending.unsubscribe_token(alice, "sms")))
    alice.refresh_from_db()
    assert (alice.email_consent, alice.sms_consent) == (True, False)
