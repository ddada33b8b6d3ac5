"""Reminders: one row per message (the queue and its record), planning's to-do list, and the worker's heartbeat."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import Patient
from routines import schedule
from routines.models import Plan

# The slot of a weekly digest row: one email a week instead of a reminder per routine (see reminders/digest.py).
DIGEST = "digest"
SLOT_CHOICES = [*schedule.SLOT_CHOICES[:2], (DIGEST, _("Weekly digest"))]


def grace() -> dt.timedelta:
    """How late a reminder may still go out; older ones are skipped, never sent late."""
    return dt.timedelta(minutes=settings.REMINDER_GRACE_MINUTES)


def claim_timeout() -> dt.timedelta:
    """How long a row may stay `sending` before its worker is presumed dead."""
    return dt.timedelta(minutes=settings.REMINDER_CLAIM_TIMEOUT_MINUTES)


class ReminderQuerySet(models.QuerySet):
    def due(self, now: dt.datetime):
        """Reminders that may be sent at `now`: due inside the grace window, first try or a retry that is due."""
        return self.filter(due_at__lte=now, due_at__gte=now - grace()).filter(
            Q(status=Reminder.Status.PENDING) | Q(status=Reminder.Status.FAILED, next_attempt_at__lte=now)
        )

    def unleased(self, now: dt.datetime):
        """Rows no live worker holds a lease on at `now` (never leased, or the lease ran out)."""
        return self.filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now))

    def too_late(self, now: dt.datetime):
        """Pending reminders whose grace window closed before `now`."""
        return self.filter(status=Reminder.Status.PENDING, due_at__lt=now - grace())

    def stuck(self, now: dt.datetime):
        """Rows left `sending` longer than the claim timeout: their worker died mid-send."""
        return self.filter(status=Reminder.Status.SENDING, claimed_at__lt=now - claim_timeout())

    def back_to_pending(self) -> int:
        """Make these rows pending again; returns how many.

        The worker sends them on its next pass if still inside the grace
        window, and skips them (recorded) otherwise.
        """
        return self.update(
            status=Reminder.Status.PENDING, next_attempt_at=None, lease=None, leased_until=None, claimed_at=None
        )


class Reminder(models.Model):
    """One scheduled message, and the queue entry that sends it.

    The unique (plan, slot, local_date, channel) constraint makes planning
    idempotent; a weekly digest (slot "digest", `local_date` its day) is also
    unique per patient and date, whichever of their plans it was planned from.
    A row goes pending → sending → sent, failed or skipped; the
    conditional pending → sending UPDATE is what makes sending exactly-once
    (see reminders/sending.py).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="reminders")
    # Every send writes its row twice (claim, outcome), and each write touches every index: no index here
    # repeats another's leading column. The unique (plan, …) constraint serves lookups by plan.
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="reminders", db_index=False)
    slot = models.CharField(max_length=8, choices=SLOT_CHOICES)
    local_date = models.DateField()
    due_at = models.DateTimeField(db_index=True)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)  # (status, due_at) below
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # The batch a worker took this row in, and until when it holds it; other workers pass it by.
    # A lease never makes a row "sending": if its worker dies, the row is simply due again after it.
    lease = models.UUIDField(null=True, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    # When the last send began (pending → sending), under its lease; recovery reads it.
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    skip_reason = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        ordering = ["-due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "slot", "local_date", "channel"], name="reminder_unique_plan_slot_date_channel"
            ),
            # One digest a patient and week even when two plans run that day (a routine re-assigned mid-week).
            models.UniqueConstraint(
                fields=["patient", "local_date"], condition=Q(slot=DIGEST), name="reminder_one_digest_per_patient_day"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="reminder_status_due"),
            # The admin's SMS filter, on a table of millions of emails; only SMS rows pay for it.
            models.Index(fields=["due_at"], condition=Q(channel="sms"), name="reminder_sms_due"),
        ]

    def __str__(self) -> str:
        return f"{self.get_slot_display()} reminder for {self.patient} on {self.local_date} ({self.status})"

    @property
    def is_digest(self) -> bool:
        return self.slot == DIGEST

    def is_due(self, now: dt.datetime) -> bool:
        """Whether this row, as loaded, may be sent at `now`: `Reminder.objects.due(now)` for one row in hand."""
        if not now - grace() <= self.due_at <= now:
            return False
        retry_due = self.next_attempt_at is not None and self.next_attempt_at <= now
        return self.status == self.Status.PENDING or (self.status == self.Status.FAILED and retry_due)


class ReplanRequest(models.Model):
    """Something that decides when a patient's steps are due changed: plan their reminders again.

    Written by reminders/signals.py in the same transaction as the change (a
    plan, step or ramp phase, a procedure, a skin flag, the patient's settings);
    `patient_id` None asks for everyone (a product's ingredients or a procedure
    type's hold changed). Planning reads the requests, plans those patients over
    the whole window, then deletes exactly the requests it read, so a change
    committed during a pass is planned by the next one (reminders/planning.py).
    A plain id, not a foreign key: a request may outlive its patient, whose
    removal only makes it moot.
    """

    EVERYONE = None  # as `patient_id`: plan every patient again

    patient_id = models.BigIntegerField(null=True, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        who = "everyone" if self.patient_id is None else f"patient #{self.patient_id}"
        return f"Plan reminders again for {who} (asked {self.requested_at:%Y-%m-%d %H:%M})"


class WorkerHeartbeatQuerySet(models.QuerySet):
    def beat(self, name: str, *, detail: str = "") -> None:
        """Record that loop `name` finished a pass, at the real time (even under `run_reminders --now`)."""
        self.update_or_create(name=name, defaults={"beat_at": timezone.now(), "detail": detail[:200]})

    def beat_since(self, name: str, since: dt.datetime) -> bool:
        """Whether loop `name` finished a pass at or after `since`."""
        return self.filter(name=name, beat_at__gte=since).exists()


class WorkerHeartbeat(models.Model):
    """The last time a background loop (e.g. `run_reminders`) finished a pass.

    /healthz reads it; a row per loop name.
    """

    REMINDERS = "run_reminders"

    name = models.CharField(max_length=64, unique=True)
    beat_at = models.DateTimeField()
    detail = models.CharField(max_length=200, blank=True)

    objects = WorkerHeartbeatQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
