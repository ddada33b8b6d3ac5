"""Upgrading the reminder queue (task-queue stamps out, leases in) keeps every reminder row as it was."""

import datetime as dt

BEFORE = [("reminders", "0002_tables_content_types_and_roles")]
AFTER = [("reminders", "0004_lease_id_and_fewer_indexes")]
DUE = dt.datetime(2027, 3, 2, 13, 0, tzinfo=dt.UTC)


def test_it_keeps_every_reminder_row_through_the_upgrade(migrator):
    apps = migrator.apply_initial_migration(BEFORE).apps
    user = apps.get_model("auth", "User").objects.create(username="pat", email="pat@example.org")
    patient = apps.get_model("portal", "Patient").objects.create(
        user=user, chart_number="C-9", date_of_birth=dt.date(1980, 1, 1)
    )
    plan = apps.get_model("routines", "Plan").objects.create(
        patient=patient, name="Care", start_date=dt.date(2027, 3, 1)
    )
    Reminder = apps.get_model("reminders", "Reminder")
    rows = {
        "pending": {"enqueued_at": DUE},
        "sending": {"claimed_at": DUE, "enqueued_at": DUE},
        "sent": {"sent_at": DUE, "attempts": 1},
        "failed": {"attempts": 2, "last_error": "SMTP down", "next_attempt_at": DUE + dt.timedelta(minutes=2)},
    }
    for day, (status, fields) in enumerate(rows.items(), start=1):
        Reminder.objects.create(
            patient=patient,
            plan=plan,
            slot="morning",
            local_date=dt.date(2027, 3, day),
            due_at=DUE,
            status=status,
            **fields,
        )
    kept = ["status", "due_at", "attempts", "sent_at", "claimed_at", "last_error", "next_attempt_at"]
    before = list(Reminder.objects.order_by("local_date").values(*kept))

    Reminder = migrator.apply_tested_migration(AFTER).apps.get_model("reminders", "Reminder")
    assert list(Reminder.objects.order_by("local_date").values(*kept)) == before
    assert set(Reminder.objects.values_list("lease", "leased_until")) == {(None, None)}
