"""Reminder and WorkerHeartbeat move here from `routines` (issue 14).

State only: the tables, their rows and constraints stay as they are; 0002
renames them. The documented way to move a model between apps (Django's
SeparateDatabaseAndState).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("portal", "0005_time_zone_choices_on_the_field"),
        ("routines", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="WorkerHeartbeat",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=64, unique=True)),
                        ("beat_at", models.DateTimeField()),
                        ("detail", models.CharField(blank=True, max_length=200)),
                    ],
                    options={"db_table": "routines_workerheartbeat"},
                ),
                migrations.CreateModel(
                    name="Reminder",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("slot", models.CharField(choices=[("morning", "Morning"), ("evening", "Evening")], max_length=8)),
                        ("local_date", models.DateField()),
                        ("due_at", models.DateTimeField(db_index=True)),
                        ("channel", models.CharField(choices=[("email", "Email"), ("sms", "SMS")], default="email", max_length=8)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("pending", "Pending"),
                                    ("sending", "Sending"),
                                    ("sent", "Sent"),
                                    ("failed", "Failed"),
                                    ("skipped", "Skipped"),
                                ],
                                db_index=True,
                                default="pending",
                                max_length=8,
                            ),
                        ),
                        ("attempts", models.PositiveSmallIntegerField(default=0)),
                        ("next_attempt_at", models.DateTimeField(blank=True, null=True)),
                        ("claimed_at", models.DateTimeField(blank=True, null=True)),
                        ("last_error", models.TextField(blank=True)),
                        ("skip_reason", models.CharField(blank=True, max_length=200)),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("enqueued_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "patient",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="reminders", to="portal.patient"
                            ),
                        ),
                        (
                            "plan",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="reminders", to="routines.plan"
                            ),
                        ),
                    ],
                    options={
                        "db_table": "routines_reminder",
                        "ordering": ["-due_at"],
                        "indexes": [models.Index(fields=["status", "due_at"], name="reminder_status_due")],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("plan", "slot", "local_date", "channel"),
                                name="reminder_unique_plan_slot_date_channel",
                            )
                        ],
                    },
                ),
            ],
        ),
    ]
