"""/healthz: the database, plus the checks the apps above portal register (portal.health)."""

from unittest import mock

from django.db import OperationalError
from django.db.backends.utils import CursorWrapper


def test_it_answers_for_the_database_and_the_reminder_worker_only(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "reminders": "stale"}  # no worker has run in this test


def test_it_answers_503_while_the_database_is_down(client, db):
    with mock.patch.object(CursorWrapper, "execute", side_effect=OperationalError("connection refused")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "error"}
