"""The read-only reminders admin and its retry action."""

import datetime as dt

from reminders import planning, sending
from reminders.models import Reminder
from routines import schedule
from tests.factories import MiliaCarePlanFactory, UserFactory, utc


def test_it_lists_reminders_read_only_and_retries_failed_ones(alice, client):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    MiliaCarePlanFactory(patient=alice, steps=[dict(slot=schedule.MORNING, instructions="Sunscreen")])
    planning.plan_reminders(now=utc(2027, 3, 2, 13, 0))
    failed = Reminder.objects.first()
    Reminder.objects.filter(pk=failed.pk).update(status="failed", last_error="SMTP down", attempts=5)

    response = client.get("/admin/reminders/reminder/?status__exact=failed")
    assert response.status_code == 200
    assert b"SMTP down" in response.content
    assert client.get("/admin/reminders/reminder/add/").status_code == 403

    response = client.post(
        "/admin/reminders/reminder/", {"action": "retry_failed", "_selected_action": [failed.pk]}, follow=True
    )
    assert response.status_code == 200
    failed.refresh_from_db()
    assert (failed.status, failed.next_attempt_at) == ("pending", None)
    # And the next pass sends it, if it is still inside the grace window.
    sending.send_due(now=failed.due_at + dt.timedelta(minutes=5))
    failed.refresh_from_db()
    assert failed.status == "sent"
