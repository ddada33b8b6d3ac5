"""Reminders: plan them, claim them, send them.

The `Reminder` row is the source of truth; the task queue only carries ids.

Planning. For each active plan, slot and local date with at least one step
due (`plan.steps_due_on`), one row per consented channel, due at the patient's
local reminder time converted to UTC. Only rows due inside
[now - grace, now + plan-ahead] are created, so a first run never backfills
history. Inserts are batched `bulk_create(ignore_conflicts=True)`: the unique
(plan, slot, local_date, channel) constraint makes planning idempotent and
safe to run from several schedulers at once.

Daylight saving. A reminder time that does not exist on a spring-forward day
moves to the first valid minute after the gap; an ambiguous time on a
fall-back day uses its first occurrence (fold=0). Exactly one reminder per
slot and date either way.

Sending, and the concurrency rules:

- A worker claims rows before sending them: in one short transaction it
  selects those still due (`pending`, or `failed` with a retry due) with
  `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL and flips them to
  `sending`. Another worker skips locked rows and, after the commit, no longer
  sees them as due; SQLite has a single writer, so the same block is
  serialised. No row is ever claimed twice. Claims go CLAIM_CHUNK rows at a
  time, to keep the database round trips per reminder low at the 08:00 peak.
- Success → `sent`. A transport error → `failed` with the error text and
  `next_attempt_at` backed off exponentially, until REMINDER_MAX_ATTEMPTS or
  a permanent error; then it stays `failed`.
- A claimed row is re-checked before sending: too late (beyond the grace
  window), patient paused, plan not running, no consent, nothing due →
  `skipped` with the reason. Nothing is ever sent late.
- Crash recovery: a row still `sending` after REMINDER_CLAIM_TIMEOUT_MINUTES
  belongs to a worker that died between claiming and recording the outcome.
  The message may or may not have left. We record it as `failed` ("delivery
  unknown") and do NOT retry it automatically: the product rule is "sent at
  most once", and a duplicate health email is worse than one missed nudge
  that staff can see (and resend with the admin's "Retry" action). A crash
  leaves at most one claimed chunk (CLAIM_CHUNK rows) per worker in this
  state, some of which were never handed to the transport: that is the price
  of the batched claim, accepted for throughput, and visible in the admin.
  A live worker never lets its own rows look crashed: once half that timeout
  has passed since it claimed a chunk (a very slow mail server), it hands the
  unsent rest back to `pending` for the next task instead of sending them.
- Lost tasks: the scheduler stamps `enqueued_at` when it enqueues a row; a
  row still due and unsent REMINDER_REQUEUE_AFTER_MINUTES later is enqueued
  again. A duplicate task is harmless, since the claim decides who sends.
"""

import datetime as dt
import functools
import logging
import random
import re
import time
import zoneinfo
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.core import signing
from django.db import InterfaceError, OperationalError, ProgrammingError, connection, transaction
from django.db.models import Case, DateTimeField, F, Q, Value, When, prefetch_related_objects
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from portal.models import Patient
from routines import schedule
from routines.models import Plan

from .models import Reminder, WorkerHeartbeat
from .transports import Message, TransportError, get_transport

logger = logging.getLogger(__name__)

SLOTS = (schedule.MORNING, schedule.EVENING)
UNSUBSCRIBE_SALT = "routines.reminders.unsubscribe"  # unchanged by the move: links already emailed keep working
HEARTBEAT_NAME = "run_reminders"
# Rows claimed per UPDATE. Also the most rows a crashed worker can leave "sending".
CLAIM_CHUNK = 50


def grace() -> dt.timedelta:
    return dt.timedelta(minutes=settings.REMINDER_GRACE_MINUTES)


# --- Time arithmetic -----------------------------------------------------


def local_due_at(day: dt.date, at: dt.time, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The UTC instant of wall-clock time `at` on local date `day` in `tz`.

    Nonexistent (spring-forward gap) → the first valid minute after the gap;
    ambiguous (fall-back) → the first occurrence.
    """
    wall = dt.datetime.combine(day, at.replace(second=0, microsecond=0))
    # Gaps are at most a day long (Samoa, 2011); most are an hour.
    for minutes in range(24 * 60 + 1):
        candidate = wall + dt.timedelta(minutes=minutes)
        instant = candidate.replace(tzinfo=tz, fold=0).astimezone(dt.UTC)
        # A wall time exists iff it survives the round trip through UTC.
        if instant.astimezone(tz).replace(tzinfo=None) == candidate:
            return instant
    raise ValueError(f"No valid local time near {wall} in {tz}")


def reminder_time(patient: Patient, slot: str) -> dt.time:
    return patient.morning_reminder_time if slot == schedule.MORNING else patient.evening_reminder_time


def consented_channels(patient: Patient) -> list[str]:
    channels = []
    if patient.email_consent:
        channels.append(Reminder.Channel.EMAIL)
    if patient.sms_consent:
        channels.append(Reminder.Channel.SMS)
    return channels


# --- Planning ------------------------------------------------------------


def reminders_for_plan(plan: Plan, *, start: dt.datetime, end: dt.datetime) -> Iterator[Reminder]:
    """Unsaved Reminder rows for `plan` due within [start, end]."""
    patient = plan.patient
    channels = consented_channels(patient)
    if not channels:
        return
    tz = patient.tz
    day, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    while day <= last:
        due = plan.steps_due_on(day)
        for slot in SLOTS:
            if not due[slot]:
                continue
            due_at = local_due_at(day, reminder_time(patient, slot), tz)
            if start <= due_at <= end:
                for channel in channels:
                    yield Reminder(
                        patient=patient, plan=plan, slot=slot, local_date=day, due_at=due_at, channel=channel
                    )
        day += dt.timedelta(days=1)


def plan_reminders(*, now: dt.datetime, patient_ids: Iterable[int] | None = None, batch_size: int | None = None) -> int:
    """Create the missing reminders due in [now - grace, now + plan-ahead].

    Idempotent. Walks plans in primary-key chunks so memory stays flat however
    many patients there are. Returns how many candidate rows were offered to
    the database (existing ones are ignored by the unique constraint).
    """
    batch_size = batch_size or settings.REMINDER_BATCH_SIZE
    start = now - grace()
    end = now + dt.timedelta(hours=settings.REMINDER_PLAN_AHEAD_HOURS)
    # Any local date some zone (UTC-12 … UTC+14) can have inside the window.
    first_day, last_day = (start - dt.timedelta(hours=12)).date(), (end + dt.timedelta(hours=14)).date()
    plans = (
        Plan.objects.filter(status=Plan.Status.ACTIVE, start_date__lte=last_day)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=first_day))
        .filter(Q(patient__email_consent=True) | Q(patient__sms_consent=True))
        .select_related("patient")
        # Steps, phases and the patients' procedures (holds): a few queries per chunk, not per plan.
        .with_schedule()
        .order_by("pk")
    )
    if patient_ids is not None:
        plans = plans.filter(patient_id__in=list(patient_ids))
    offered, last_pk = 0, 0
    while True:
        chunk = list(plans.filter(pk__gt=last_pk)[:batch_size])
        if not chunk:
            return offered
        last_pk = chunk[-1].pk
        rows = [row for plan in chunk for row in reminders_for_plan(plan, start=start, end=end)]
        Reminder.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        offered += len(rows)


@transaction.atomic
def replan_patient(*, patient: Patient, now: dt.datetime) -> None:
    """Re-plan a patient's future reminders after their times, zone or consent changed."""
    Reminder.objects.filter(patient=patient, status=Reminder.Status.PENDING, due_at__gt=now).delete()
    plan_reminders(now=now, patient_ids=[patient.pk])


# --- Housekeeping ----------------------------------------------------------


def skip_late(*, now: dt.datetime) -> int:
    """Record pending reminders older than the grace window as skipped; stop retrying old failures.

    Returns how many were skipped.
    """
    cutoff = now - grace()
    skipped = Reminder.objects.filter(status=Reminder.Status.PENDING, due_at__lt=cutoff).update(
        status=Reminder.Status.SKIPPED,
        skip_reason=f"Too late: not sent within {settings.REMINDER_GRACE_MINUTES} minutes of its time.",
    )
    Reminder.objects.filter(status=Reminder.Status.FAILED, next_attempt_at__isnull=False, due_at__lt=cutoff).update(
        next_attempt_at=None
    )
    return skipped


def recover_stuck(*, now: dt.datetime) -> int:
    """Fail rows left `sending` by a crashed worker (see the module docstring). Returns how many."""
    cutoff = now - dt.timedelta(minutes=settings.REMINDER_CLAIM_TIMEOUT_MINUTES)
    return Reminder.objects.filter(status=Reminder.Status.SENDING, claimed_at__lt=cutoff).update(
        status=Reminder.Status.FAILED,
        next_attempt_at=None,
        last_error=(
            "The worker stopped while sending; delivery is unknown. "
            "Not retried automatically so the patient is never reminded twice."
        ),
    )


def due_reminders(now: dt.datetime):
    """Reminders that may be sent at `now`: due, inside the grace window, first try or retry due."""
    return Reminder.objects.filter(due_at__lte=now, due_at__gte=now - grace()).filter(
        Q(status=Reminder.Status.PENDING) | Q(status=Reminder.Status.FAILED, next_attempt_at__lte=now)
    )


def enqueue_due(*, now: dt.datetime, batch_size: int | None = None) -> int:
    """Enqueue send tasks for due reminders not yet enqueued, or whose task looks lost.

    Returns how many reminders were enqueued.
    """
    from .tasks import send_reminders

    batch_size = batch_size or settings.REMINDER_BATCH_SIZE
    lost_before = now - dt.timedelta(minutes=settings.REMINDER_REQUEUE_AFTER_MINUTES)
    waiting = (
        due_reminders(now)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=lost_before))
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)
    )
    enqueued = 0
    while ids := list(waiting[:batch_size]):
        # Stamp before enqueueing: if the enqueue is lost, the stamp ages and the row is enqueued again.
        Reminder.objects.filter(pk__in=ids).update(enqueued_at=now)
        send_reminders.enqueue(ids)
        enqueued += len(ids)
    return enqueued


def send_due(*, now: dt.datetime | None = None, batch_size: int | None = None) -> int:
    """Claim and send one batch of due reminders in this process. Returns how many were found due.

    `now` as in `send_batch`: a fixed instant, or None to read the clock.
    """
    batch_size = batch_size or settings.REMINDER_BATCH_SIZE
    at = now or timezone.now()
    ids = retry_when_locked(
        lambda: list(due_reminders(at).order_by("due_at", "pk").values_list("pk", flat=True)[:batch_size])
    )
    send_batch(ids, now=now)
    return len(ids)


def beat(*, detail: str = "") -> None:
    """Record that a scheduler pass finished (real time, even under --now)."""
    WorkerHeartbeat.objects.update_or_create(
        name=HEARTBEAT_NAME, defaults={"beat_at": timezone.now(), "detail": detail[:200]}
    )


# --- Sending ---------------------------------------------------------------


def retry_when_locked(operation, *, tries: int = 50):
    """Run `operation()`, retrying while the database is busy or the connection was lost.

    SQLite allows one writer; past its busy timeout (and at once in the
    shared-cache in-memory database tests use) it raises "locked" instead of
    waiting. A dropped connection (database restart, network) is reopened,
    a few times at most. Each operation here is one statement or one
    transaction that either happened or did not, and is written so that
    running it again cannot send or claim anything twice (a claim that did
    commit before the connection dropped leaves its rows "sending", which
    recovery records as failed, never re-sent).
    """
    reconnects = 0
    for attempt in range(tries):
        try:
            return operation()
        except (OperationalError, InterfaceError, ProgrammingError) as exc:
            if attempt == tries - 1:
                raise
            if isinstance(exc, OperationalError) and "locked" in str(exc):
                time.sleep(0.005 + random.random() * 0.02 * (attempt + 1))  # noqa: S311 - jitter, not security
                continue
            if reconnects < 3 and not connection.in_atomic_block and _connection_lost(exc):
                logger.warning("Database connection lost (%s); reconnecting", exc)
                reconnects += 1
                connection.close()
                continue
            raise


def _connection_lost(exc: Exception) -> bool:
    if isinstance(exc, InterfaceError) or "closed" in str(exc).lower():
        return True
    try:
        return not connection.is_usable()
    except Exception:
        return True


def send_batch(reminder_ids: Iterable[int], *, now: dt.datetime | None = None) -> dict:
    """Claim, check and send those of `reminder_ids` still due, CLAIM_CHUNK at a time.

    `now` fixes the instant for the whole batch (`run_reminders --now`); None
    reads the clock again for every reminder, so a slow mail server cannot
    carry a send past the grace window, and each is stamped when it went out.
    Returns {status: count} for the reminders this call handled.
    """
    steps, phases, procedures = Plan.schedule_prefetches("plan__")
    candidates = (
        due_reminders(now or timezone.now())
        .filter(pk__in=list(reminder_ids))
        .select_related("patient__user", "plan")
        .prefetch_related(steps, phases)
        .order_by("due_at", "pk")
    )

    def load() -> list[Reminder]:
        rows = list(candidates)
        for reminder in rows:
            if reminder.plan.patient_id == reminder.patient_id:
                reminder.plan.patient = reminder.patient  # the same row: no second fetch of every patient
        prefetch_related_objects(rows, procedures)
        return rows

    candidates = retry_when_locked(load)
    hidden = retry_when_locked(condition_names)
    counts: dict = {}
    for start in range(0, len(candidates), CLAIM_CHUNK):
        chunk = {r.pk: r for r in candidates[start : start + CLAIM_CHUNK]}
        claimed_at = now or timezone.now()
        handback_at = claimed_at + claim_budget()
        sent = {}  # pk: when it went out
        claimed = claim(list(chunk), now=claimed_at)
        for n, pk in enumerate(claimed):
            at = now or timezone.now()
            if at > handback_at:
                # Sending is so slow that recovery would soon take these rows for a crashed
                # worker's: hand the rest back instead of racing it.
                counts[Reminder.Status.PENDING] = counts.get(Reminder.Status.PENDING, 0) + release(claimed[n:])
                break
            outcome = deliver(chunk[pk], now=at, hidden_words=hidden)
            counts[outcome] = counts.get(outcome, 0) + 1
            if outcome == Reminder.Status.SENT:
                sent[pk] = at
        if sent:
            # One UPDATE for the chunk's successes. A crash before it leaves them "sending",
            # which recovery records as failed (delivery unknown), never re-sent.
            stamps = Case(*(When(pk=pk, then=Value(at)) for pk, at in sent.items()), output_field=DateTimeField())
            ours = Reminder.objects.filter(pk__in=sent, status=Reminder.Status.SENDING)
            retry_when_locked(
                lambda ours=ours, stamps=stamps: ours.update(
                    status=Reminder.Status.SENT,
                    sent_at=stamps,
                    attempts=F("attempts") + 1,
                    next_attempt_at=None,
                    last_error="",
                )
            )
    return counts


def claim_budget() -> dt.timedelta:
    """How long a worker may spend sending a claimed chunk: half the time after which recovery takes it."""
    return dt.timedelta(minutes=settings.REMINDER_CLAIM_TIMEOUT_MINUTES) / 2


def release(reminder_ids: list[int]) -> int:
    """Hand claimed, unsent rows back (sending → pending) for the scheduler to enqueue again. Returns how many."""
    ours = Reminder.objects.filter(pk__in=reminder_ids, status=Reminder.Status.SENDING)
    return retry_when_locked(ours.back_to_pending)


def claim(reminder_ids: list[int], *, now: dt.datetime) -> list[int]:
    """Take those of `reminder_ids` still due for sending; returns the ids this caller now owns.

    Select-then-update in one transaction. On PostgreSQL the SELECT … FOR
    UPDATE SKIP LOCKED locks the rows, so a concurrent claimer skips them and
    re-checks them after commit; SQLite runs the block as its single writer.
    Either way no row is ever claimed twice.
    """

    def attempt() -> list[int]:
        with transaction.atomic():
            ids = list(
                due_reminders(now)
                .filter(pk__in=reminder_ids)
                .select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            updated = due_reminders(now).filter(pk__in=ids).update(status=Reminder.Status.SENDING, claimed_at=now)
            if updated != len(ids):  # pragma: no cover - impossible while the rows are locked
                raise OperationalError("claim lost its rows; database is locked or misbehaving")
            return ids

    return retry_when_locked(attempt)


def deliver(reminder: Reminder, *, now: dt.datetime, hidden_words: list[str] | None = None) -> str:
    """Check and send one reminder this worker has claimed. Returns the outcome status.

    Skips and failures are recorded here; `sent` is recorded by the caller in bulk.
    """

    def record(**fields):
        ours = Reminder.objects.filter(pk=reminder.pk, status=Reminder.Status.SENDING)
        retry_when_locked(lambda: ours.update(**fields))

    try:
        steps = reminder.plan.steps_due_on(reminder.local_date)[reminder.slot]
        reason = skip_reason(reminder, now=now, steps=steps)
        if reason:
            record(status=Reminder.Status.SKIPPED, skip_reason=reason)
            return Reminder.Status.SKIPPED
        message = build_message(reminder, steps=steps, hidden_words=hidden_words or [])
        get_transport(reminder.channel).send(message)
    except Exception as exc:
        # Anything unexpected is recorded like a transport error, never left "sending".
        if not isinstance(exc, TransportError):
            logger.exception("Reminder %s failed unexpectedly", reminder.pk)
            exc = TransportError(f"{type(exc).__name__}: {exc}")
        attempts = reminder.attempts + 1
        record(
            status=Reminder.Status.FAILED,
            attempts=attempts,
            last_error=exc.message[:2000],
            next_attempt_at=next_attempt_at(reminder, attempts=attempts, now=now, permanent=exc.permanent),
            enqueued_at=None,
        )
        return Reminder.Status.FAILED
    return Reminder.Status.SENT


def next_attempt_at(reminder: Reminder, *, attempts: int, now: dt.datetime, permanent: bool) -> dt.datetime | None:
    """When to retry after `attempts` failed tries: exponential back-off, None to give up."""
    if permanent or attempts >= settings.REMINDER_MAX_ATTEMPTS:
        return None
    at = now + dt.timedelta(seconds=settings.REMINDER_RETRY_BASE_SECONDS * 2 ** (attempts - 1))
    return at if at <= reminder.due_at + grace() else None


def skip_reason(reminder: Reminder, *, now: dt.datetime, steps: list) -> str:
    """Why this reminder must not be sent at `now`, or "" to send it."""
    patient, plan, day = reminder.patient, reminder.plan, reminder.local_date
    if reminder.due_at < now - grace():
        return f"Too late: not sent within {settings.REMINDER_GRACE_MINUTES} minutes of its time."
    if patient.reminders_paused_on(day):
        return "The patient paused reminders."
    if plan.status == Plan.Status.ENDED or (plan.end_date and day > plan.end_date):
        return "The plan has ended."
    if not plan.is_running_on(day):
        return f"The plan is not running on {day:%Y-%m-%d} ({plan.get_status_display().lower()})."
    if reminder.channel not in consented_channels(patient):
        return f"No consent for {reminder.get_channel_display()} reminders."
    if not steps:
        return "No steps are due in this slot any more."
    return ""


# --- Messages --------------------------------------------------------------


def condition_names() -> list[str]:
    """Names that must never appear in a message (email and SMS are not private)."""
    try:
        from education.models import Condition
    except ImportError:  # pragma: no cover - the education app is always installed
        return []
    return list(Condition.objects.values_list("name", flat=True))


def safe_step_names(steps: list, hidden_words: list[str]) -> list[str]:
    """Step titles for a message; a title naming a condition becomes a neutral label."""
    pattern = re.compile("|".join(re.escape(w) for w in hidden_words if w), re.IGNORECASE) if hidden_words else None
    names = []
    for n, step in enumerate(steps, start=1):
        title = step.title
        names.append(f"Step {n} of your routine" if pattern and pattern.search(title) else title)
    return names


def unsubscribe_token(patient: Patient, channel: str) -> str:
    return signing.dumps({"p": patient.pk, "c": channel}, salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    """(patient id, channel) from a token; raises signing.BadSignature if forged."""
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    if not isinstance(data, dict) or data.get("c") not in Reminder.Channel.values or not isinstance(data.get("p"), int):
        raise signing.BadSignature("Malformed unsubscribe token")
    return data["p"], data["c"]


def unsubscribe_url(patient: Patient, channel: str) -> str:
    path = reverse("reminders:unsubscribe", args=[unsubscribe_token(patient, channel)])
    return settings.PORTAL_BASE_URL + path


def settings_url() -> str:
    return settings.PORTAL_BASE_URL + _settings_path()


@functools.cache
def _settings_path() -> str:
    return reverse("reminders:settings")


def build_message(reminder: Reminder, *, steps: list, hidden_words: list[str]) -> Message:
    """The reminder's text (and HTML for email). Names steps; never the plan or a condition."""
    patient = reminder.patient
    names = safe_step_names(steps, hidden_words)
    context = {
        "first_name": patient.first_name,
        "slot": reminder.get_slot_display().lower(),
        "steps": names,
        "count": len(names),
        "portal_url": settings.PORTAL_BASE_URL + "/",
        "settings_url": settings_url(),
        "unsubscribe_url": unsubscribe_url(patient, reminder.channel),
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
    }
    if reminder.channel == Reminder.Channel.SMS:
        return Message(to=patient.phone, subject="", text=render_to_string("emails/reminder_sms.txt", context).strip())
    return Message(
        to=patient.user.email,
        subject=" ".join(render_to_string("emails/reminder_subject.txt", context).split()),
        text=render_to_string("emails/reminder.txt", context),
        html=render_to_string("emails/reminder.html", context),
        headers={
            # RFC 8058 one-click unsubscribe: mail clients POST to this URL.
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
