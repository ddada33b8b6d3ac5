import csv
import datetime as dt
import functools
import secrets
import zoneinfo
from collections.abc import Iterator

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.models import HistoricalRecords

from .client_ip import client_ip

INVITATION_SALT = "portal.invitation"


@functools.cache
def patient_time_zones() -> frozenset[str]:
    """The zones a patient may follow: Region/City names, no legacy aliases such as EST or Etc/GMT+5."""
    return frozenset(z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))


def time_zone_choices() -> list[tuple[str, str]]:
    """`patient_time_zones` for a select box, with readable names: staff and patients pick from one list."""
    return [(name, name.replace("_", " ")) for name in sorted(patient_time_zones())]


def validate_time_zone(value: str) -> None:
    """The field's old validator, kept because migration 0001 names it; `time_zone_choices` checks now."""
    if value not in patient_time_zones():
        raise ValidationError(f"“{value}” is not a time zone name such as America/New_York.")


def new_calendar_token() -> str:
    return secrets.token_urlsafe(24)


class Patient(models.Model):
    """A patient's record; the portal login is the one-to-one user."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="patient")
    chart_number = models.CharField(max_length=32, db_index=True)  # unique in any case: see Meta
    date_of_birth = models.DateField()
    phone = models.CharField(max_length=32, blank=True)
    time_zone = models.CharField(
        max_length=64,
        default="America/New_York",
        choices=time_zone_choices,  # one list for the admin and the patient's own settings
        help_text=gettext_lazy("Reminders follow this zone's clock."),
    )
    preferred_language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    dermatologist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="dermatology_patients",
        limit_choices_to={"groups__name": "Dermatologist"},
    )
    # Reminder preferences. Times are the patient's local wall-clock times.
    email_consent = models.BooleanField("email reminders consented", default=False)
    sms_consent = models.BooleanField("SMS reminders consented", default=False)
    morning_reminder_time = models.TimeField(default=dt.time(8, 0))
    evening_reminder_time = models.TimeField(default=dt.time(20, 30))
    reminders_paused = models.BooleanField(default=False)
    paused_until = models.DateField(
        null=True,
        blank=True,
        help_text=gettext_lazy("Reminders resume on this date. Empty means paused until turned back on."),
    )
    # What the portal sends: step reminders (at the times above), a weekly digest (day and time local), both or none.
    step_reminders = models.BooleanField(default=True)
    weekly_digest = models.BooleanField(default=True)
    digest_weekday = models.PositiveSmallIntegerField(
        choices=list(WEEKDAYS.items()), default=6, validators=[MaxValueValidator(6)]
    )
    digest_time = models.TimeField(default=dt.time(10, 0))
    calendar_token = models.CharField(max_length=64, unique=True, default=new_calendar_token)
    created_at = models.DateTimeField(auto_now_add=True)
    # The local date of the patient's latest tick, kept by `StepCheck.objects.toggle` so staff lists sort
    # and filter on it without reading every tick.
    last_check_in_on = models.DateField(null=True, blank=True, db_index=True, editable=False)

    # Every save keeps a full copy with who and when; the calendar token is a secret, so no copy keeps it,
    # and the last check-in date is activity, not a change to the record.
    history = HistoricalRecords(excluded_fields=["calendar_token", "last_check_in_on"])

    class Meta:
        ordering = ["user__last_name", "user__first_name"]
        constraints = [
            # "c-1234" and "C-1234" would be two records for one person: ticks and plans split.
            models.UniqueConstraint(
                Upper("chart_number"),
                name="patient_unique_chart_number_any_case",
                violation_error_message="Another patient already has this chart number.",
            )
        ]
        permissions = [
            ("invite_patient", "Can send or print a portal invitation"),
            ("print_handout", "Can print patient handouts"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.chart_number})"

    @property
    def full_name(self) -> str:
        return self.user.get_full_name() or self.user.username

    @property
    def is_activated(self) -> bool:
        """True once the patient has set a password: invitations are then refused."""
        return self.user.has_usable_password()

    @property
    def first_name(self) -> str:
        return self.user.first_name or self.user.username

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def local_today(self, now: dt.datetime | None = None) -> dt.date:
        """The patient's calendar date at `now` (default: the current instant)."""
        return (now or timezone.now()).astimezone(self.tz).date()

    def clean(self):
        """Reminder settings that cannot work, whoever edits them (the patient or staff)."""
        super().clean()
        if self.paused_until:
            self.reminders_paused = True  # a resume date only makes sense for a pause
        errors = {}
        morning, evening = self.morning_reminder_time, self.evening_reminder_time
        if morning and evening and morning >= evening:
            errors["evening_reminder_time"] = "The evening reminder must come after the morning one."
        if self.sms_consent and not self.phone:
            errors["sms_consent"] = "Text-message reminders need a mobile number; the front desk can add one."
        if errors:
            raise ValidationError(errors)

    def reminders_paused_on(self, day: dt.date) -> bool:
        if not self.reminders_paused:
            return False
        return self.paused_until is None or day < self.paused_until


class InvitationQuerySet(models.QuerySet):
    def usable(self):
        return self.filter(used_at__isnull=True, revoked_at__isnull=True)

    def unexpired(self):
        """Usable invitations whose link still works (the letter can be printed again)."""
        max_age = dt.timedelta(days=settings.INVITATION_MAX_AGE_DAYS)
        return self.usable().filter(created_at__gt=timezone.now() - max_age)


class Invitation(models.Model):
    """A one-time link that lets a registered patient set their password.

    The token in the link is a signed, timestamped invitation id (Django's
    signing), so it cannot be forged and expires on its own; `used_at` makes
    it single-use, and sending a new invitation revokes the older ones.
    """

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="invitations")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.patient} ({self.created_at:%Y-%m-%d})"

    @property
    def token(self) -> str:
        return signing.dumps(self.pk, salt=INVITATION_SALT)

    @property
    def expires_at(self) -> dt.datetime:
        return self.created_at + dt.timedelta(days=settings.INVITATION_MAX_AGE_DAYS)

    @classmethod
    def from_token(cls, token: str) -> "Invitation":
        """Return the usable invitation for `token`.

        Raises `InvitationInvalid` with a patient-readable reason otherwise.
        """
        try:
            pk = signing.loads(token, salt=INVITATION_SALT, max_age=dt.timedelta(days=settings.INVITATION_MAX_AGE_DAYS))
        except signing.SignatureExpired:
            raise InvitationInvalid(_("This invitation link has expired.")) from None
        except signing.BadSignature:
            raise InvitationInvalid(_("This invitation link is not valid.")) from None
        invitation = cls.objects.select_related("patient__user").filter(pk=pk).first()
        if invitation is None or invitation.revoked_at is not None:
            raise InvitationInvalid(_("This invitation link is no longer valid."))
        if invitation.used_at is not None:
            raise InvitationInvalid(_("This invitation link has already been used."))
        if invitation.patient.is_activated:
            raise InvitationInvalid(
                _("This account already has a password. Log in, or use “Forgot your password?” on the login page.")
            )
        return invitation


class InvitationInvalid(Exception):
    """A link that cannot activate an account; the message is for the patient."""


class InvitationRefused(Exception):
    """Staff asked for an invitation for a patient who already has a password."""


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP's "CSV injection").
CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """`value` as text for a CSV cell that a spreadsheet shows and never runs: a quote mark before a formula start."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(CSV_FORMULA_STARTS) else text


class CSVLine:
    """What `csv.writer` needs to write to: hands each line back instead of keeping it (a streamed export)."""

    def write(self, line: str) -> str:
        return line


class AccessLogQuerySet(models.QuerySet):
    CSV_FIELDS = ["id", "at", "user__username", "action", "patient__chart_number", "what", "path", "ip_address"]
    CSV_HEADER = ["id", "at (UTC)", "user", "action", "patient chart number", "what", "path", "IP address"]

    def older_than(self, cutoff: dt.datetime) -> "AccessLogQuerySet":
        return self.filter(at__lt=cutoff)

    def csv_lines(self, *, chunk_size: int = 2000, for_spreadsheets: bool = True) -> Iterator[str]:
        """The rows as CSV text, header first, one line at a time, in constant memory.

        Plain values (`values_list(...).iterator()`), so a million rows are never models in memory at once.
        Exports staff open in spreadsheets put every cell through `csv_cell`; an archive
        (`for_spreadsheets=False`) keeps the values exactly as stored.
        """
        cell = csv_cell if for_spreadsheets else (lambda value: "" if value is None else value)
        writer = csv.writer(CSVLine())
        yield writer.writerow(self.CSV_HEADER)
        for row in self.order_by("at", "pk").values_list(*self.CSV_FIELDS).iterator(chunk_size=chunk_size):
            at = row[1].astimezone(dt.UTC).isoformat(timespec="seconds")
            yield writer.writerow([cell(value) for value in (row[0], at, *row[2:])])

    def delete_archived(self, ids: list[int]) -> int:
        """Delete the rows `ids`, already archived: the retention's one way out of this append-only table."""
        deleted, _ = self.filter(pk__in=ids).delete()
        return deleted

    def record_export(self, request, *, rows: str) -> "AccessLog | None":
        """Log that someone took `rows` (e.g. "3 selected rows") out of the access log as a file."""
        return self.record(request, patient=None, action=AccessLog.PRINT, what=f"Exported access log: {rows}")

    def record(self, request, *, patient: Patient, action: str, what: str) -> "AccessLog | None":
        """Append one row saying who did `action` to `patient`'s `what`.

        A HEAD request reads nothing and changes nothing, so it writes no row.
        """
        if request.method == "HEAD":
            return None
        user = request.user if request.user.is_authenticated else None
        path = request.get_full_path()
        match = getattr(request, "resolver_match", None)
        for secret in ("token",):  # secret links (calendar feed, unsubscribe) stay out of the log
            if match and match.kwargs.get(secret):
                path = path.replace(match.kwargs[secret], f"<{secret}>")
        return self.create(
            user=user,
            patient=patient,
            action=action,
            what=what[:200],
            path=path[:300],
            ip_address=client_ip(request) or None,
        )


class AccessLog(models.Model):
    """Who viewed, printed or changed which patient's plan or record. Append-only."""

    VIEW = "view"
    PRINT = "print"
    CHANGE = "change"
    ACTION_CHOICES = [(VIEW, "Viewed"), (PRINT, "Printed"), (CHANGE, "Changed")]

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.SET_NULL, null=True, related_name="access_logs")
    action = models.CharField(max_length=16, choices=ACTION_CHOICES)
    what = models.CharField(max_length=200)
    path = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]
        permissions = [("export_accesslog", "Can export the access log as a file")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.action} {self.what}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("AccessLog rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("AccessLog rows are append-only.")
