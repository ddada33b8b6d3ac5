"""Reminder and WorkerHeartbeat now belong to the `reminders` app (state only: no table changes here)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("routines", "0001_initial"),
        ("reminders", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="Reminder"),
                migrations.DeleteModel(name="WorkerHeartbeat"),
            ],
        ),
    ]
