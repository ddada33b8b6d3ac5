import time

import pytest
from django.conf import settings

from portal.middleware import SESSION_SEEN, SESSION_STARTED
from tests.factories import PASSWORD


def login(client, username, password, address="10.0.0.1", **extra):
    return client.post("/accounts/login/", {"username": username, "password": password, **extra}, REMOTE_ADDR=address)


def test_it_locks_a_username_at_one_address_after_repeated_failures(client, alice, bob):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "alice", "wrong-password")
    locked = login(client, "alice", PASSWORD)
    assert locked.status_code == 429
    assert b"Too many failed log-in attempts" in locked.content
    assert "_auth_user_id" not in client.session

    # The same shared clinic address can still log other patients in, and
    # alice herself from her own phone's address.
    assert login(client, "bob", PASSWORD).status_code == 302
    client.logout()
    assert login(client, "alice", PASSWORD, address="10.0.0.99").status_code == 302


def test_it_lets_staff_unlock_a_locked_account(client, alice, derm):
    from axes.models import AccessAttempt

    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "alice", "wrong-password")
    assert AccessAttempt.objects.filter(username="alice").exists()
    assert derm.has_perm("axes.delete_accessattempt")
    client.force_login(derm)
    attempt = AccessAttempt.objects.get(username="alice")
    response = client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    client.logout()
    assert login(client, "alice", PASSWORD).status_code == 302


def test_it_keeps_a_patient_signed_in_for_14_days_only_when_asked(client, alice):
    login(client, "alice", PASSWORD, remember_me="on")
    assert client.session.get_expiry_age() == 14 * 24 * 60 * 60
    assert not client.session.get_expire_at_browser_close()
    client.logout()
    login(client, "alice", PASSWORD)
    assert client.session.get_expire_at_browser_close()


def test_it_ends_idle_and_old_staff_sessions(client, derm):
    login(client, "dana", PASSWORD, remember_me="on")
    assert client.session.get_expire_at_browser_close()
    assert client.get("/admin/").status_code == 200

    session = client.session
    session[SESSION_SEEN] = int(time.time()) - settings.STAFF_SESSION_IDLE_SECONDS - 5
    session.save()
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session

    login(client, "dana", PASSWORD)
    session = client.session
    session[SESSION_STARTED] = int(time.time()) - settings.STAFF_SESSION_MAX_SECONDS - 5
    session.save()
    assert client.get("/admin/").status_code == 302


def test_it_sends_security_headers(client, db):
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_it_serves_pages_without_inline_script(client, db):
    body = client.get("/accounts/login/").content.decode()
    assert "<script>" not in body
    assert " onclick=" not in body and " style=" not in body


@pytest.mark.parametrize("url", ["/accounts/password_reset/", "/accounts/activate/not-a-token/"])
@pytest.mark.usefixtures("frozen")
def test_it_rate_limits_account_pages(client, db, url, settings):
    settings.RATELIMIT_ACCOUNT_PAGES = "3/h"
    statuses = [client.post(url, {"email": f"n{i}@example.org"}, REMOTE_ADDR="10.9.9.9").status_code for i in range(5)]
    assert statuses[-1] == 429
    assert statuses[0] != 429
