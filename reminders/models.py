"""Reminders: one row per message (the queue and its record), and the worker's heartbeat."""

from django.db import models

from portal.models import Patient
from routines import schedule
from routines.models import Plan


class ReminderQuerySet(models.QuerySet):
    def back_to_pending(self) -> int:
        """Make these rows pending again; returns how many.

        The scheduler enqueues them on its next pass if still inside the grace
        window, and skips them (recorded) otherwise.
        """
        return self.update(status=Reminder.Status.PENDING, next_attempt_at=None, enqueued_at=None, claimed_at=None)


class Reminder(models.Model):
    """One scheduled message. The unique (plan, slot, local_date, channel)
    constraint is what makes planning idempotent and sending exactly-once."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "SMS"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="reminders")
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="reminders")
    slot = models.CharField(max_length=8, choices=schedule.SLOT_CHOICES[:2])
    local_date = models.DateField()
    due_at = models.DateTimeField(db_index=True)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    skip_reason = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When a send task was last enqueued for this row (reminders issue): lets the
    # scheduler enqueue once and re-enqueue only a task that was lost.
    enqueued_at = models.DateTimeField(null=True, blank=True)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        ordering = ["-due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "slot", "local_date", "channel"], name="reminder_unique_plan_slot_date_channel"
            )
        ]
        indexes = [models.Index(fields=["status", "due_at"], name="reminder_status_due")]

    def __str__(self) -> str:
        return f"{self.get_slot_display()} reminder for {self.patient} on {self.local_date} ({self.status})"


class WorkerHeartbeat(models.Model):
    """The last time a background loop (e.g. `run_reminders`) finished a pass.

    /healthz reads it; a row per loop name, written with update_or_create.
    """

    name = models.CharField(max_length=64, unique=True)
    beat_at = models.DateTimeField()
    detail = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
