"""Sending reminders: lease, claim, send, settle; skip what is too late; recover after a crash.

The `Reminder` table is the only queue: `run_reminders` plans rows
(reminders/planning.py) and sends them itself. To scale out, run more copies
of it against one PostgreSQL database. The rules that make that safe:

- Lease. A worker takes up to REMINDER_BATCH_SIZE due rows that nobody holds,
  in one short transaction: `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL
  (a concurrent worker skips the locked rows, and after the commit sees them
  leased), the single writer on SQLite. It stamps them with a fresh `lease`
  id and `leased_until = now + LEASE`. A lease only saves other workers
  wasted effort: the rows stay `pending` and nothing about them has reached a
  transport.
- Claim. Just before sending one row, the worker flips it pending → sending
  with a conditional UPDATE (`… WHERE pk = x AND status and lease as loaded`).
  Only one UPDATE can win, so no row is ever sent twice, even when two
  workers hold it (a lease that ran out and was taken again).
- Record. A worker goes through its lease in id order and claims the next
  row only once the transport has taken the previous one, or its failure or
  skip is written. So each claim also records that the send before it in the
  lease completed: one write per reminder, which keeps the 08:00 peak's pace
  (a second write per reminder cost about a quarter of it). Failures are written at
  once, with the error text and a retry backed off exponentially (until
  REMINDER_MAX_ATTEMPTS, the end of the grace window, or a permanent error),
  and so are skips with the reason (patient paused, plan not running, no
  consent, the patient turned that kind of message off, nothing due; too late
  is recorded by `skip_late`). When the batch
  is done, one UPDATE settles its `sending` rows as `sent`, stamped when each
  send began. Nothing is ever sent late.
- Crash. A worker killed mid-batch leaves its claimed rows `sending` and the
  rest of its lease `pending`, due again for any worker once the lease runs
  out and safe to send because they never reached a transport. Recovery
  waits REMINDER_CLAIM_TIMEOUT_MINUTES, then settles as `sent` every
  `sending` row its worker claimed another row after, and records the one
  left, the message in hand, as `failed` ("delivery unknown"): at most one
  per killed worker. That one is NOT retried automatically: the product rule
  is "sent at most once", and a duplicate health email is worse than one
  missed nudge that staff can see (and resend with the admin's "Retry"
  action).
- Weekly digests are rows of the same table (slot "digest"), leased,
  claimed, recorded and recovered exactly like step reminders; only what is
  checked before sending and the message itself differ (see `compose`).
- Clock. Without a fixed `now`, each row reads the clock again, so a slow
  mail server cannot carry a send past the grace window; and a worker stops
  working through its lease once the lease runs out, leaving the rest to
  whoever leases them next rather than racing it.
"""

import datetime as dt
import functools
import logging
import random
import re
import time
import uuid

from django.conf import settings
from django.core import signing
from django.db import InterfaceError, OperationalError, ProgrammingError, connection, transaction
from django.db.models import F, Max, Q, prefetch_related_objects
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from education.models import Condition
from portal.handouts import portal_url
from portal.language import language_of
from portal.models import Patient
from routines.models import Plan
from routines.today import step_title

from . import digest
from .models import Reminder, grace
from .planning import consented_channels, wants_digest
from .transports import Message, TransportError, get_transport

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "routines.reminders.unsubscribe"  # unchanged by the move: links already emailed keep working
# What a digest's one-click link turns off: the digest only (step reminders and other email stay as chosen).
UNSUBSCRIBE_DIGEST = "digest"
# How long a worker holds the rows it leased. After a crash they wait this long before another worker sends them.
LEASE = dt.timedelta(minutes=1)


# --- Housekeeping ----------------------------------------------------------


def skip_late(*, now: dt.datetime) -> int:
    """Record pending reminders older than the grace window as skipped; stop retrying old failures.

    Returns how many were skipped.
    """
    skipped = Reminder.objects.too_late(now).update(
        status=Reminder.Status.SKIPPED,
        skip_reason=f"Too late: not sent within {settings.REMINDER_GRACE_MINUTES} minutes of its time.",
    )
    Reminder.objects.filter(
        status=Reminder.Status.FAILED, next_attempt_at__isnull=False, due_at__lt=now - grace()
    ).update(next_attempt_at=None)
    return skipped


def recover_stuck(*, now: dt.datetime) -> int:
    """Settle the rows a dead worker left `sending` (see the module docstring). Returns how many were failed.

    Of each lease's stuck rows, those its worker claimed another row after
    were sent; the last one it claimed may or may not have left.
    """
    stuck = Reminder.objects.stuck(now)
    leases = set(stuck.values_list("lease", flat=True))
    if not leases:
        return 0
    # Rows claimed under a lease have claimed_at set: `lease` clears it. A lease's rows go out in id order.
    last_claimed = (
        Reminder.objects.filter(lease__in=leases - {None}, claimed_at__isnull=False)
        .values("lease")
        .annotate(last=Max("pk"))
        .values_list("last", flat=True)
    )
    in_hand = Q(lease__isnull=True) | Q(pk__in=list(last_claimed))  # no lease: written before leases existed
    settle(stuck.exclude(in_hand))
    return stuck.filter(in_hand).update(
        status=Reminder.Status.FAILED,
        next_attempt_at=None,
        last_error=(
            "The worker stopped while sending; delivery is unknown. "
            "Not retried automatically so the patient is never reminded twice."
        ),
    )


# --- Sending ---------------------------------------------------------------


def send_due(*, now: dt.datetime | None = None, batch_size: int | None = None) -> int:
    """Lease up to `batch_size` due reminders, send them one by one, then settle the batch.

    `now` fixes the instant throughout (`run_reminders --now`); None reads the
    clock for the lease and again for every reminder. Returns how many rows
    were leased: 0 when nothing due is left for this worker.
    """
    leased_at = now or timezone.now()
    lease_ends = leased_at + LEASE
    reminders = lease(now=leased_at, until=lease_ends, limit=batch_size or settings.REMINDER_BATCH_SIZE)
    hidden = retry_when_locked(condition_names) if reminders else []
    sent = []
    for reminder in reminders:
        at = now or timezone.now()
        if at >= lease_ends:
            break  # the rest are due again for whoever leases them next, this worker included
        if send_one(reminder, now=at, hidden_words=hidden) == Reminder.Status.SENDING:
            sent.append(reminder.pk)
    if sent:
        settle(Reminder.objects.filter(pk__in=sent))
    return len(reminders)


def lease(*, now: dt.datetime, until: dt.datetime, limit: int) -> list[Reminder]:
    """Lease up to `limit` due rows no other worker holds, until `until`; returns them loaded for sending.

    Select-then-update in one transaction: on PostgreSQL the SELECT … FOR
    UPDATE SKIP LOCKED passes over rows another worker is leasing at this
    moment; SQLite runs the block as its single writer.
    """

    def attempt() -> list[int]:
        with transaction.atomic():
            ids = list(
                Reminder.objects.due(now)
                .unleased(now)
                .select_for_update(skip_locked=True)
                .order_by("due_at")  # oldest first; no tie-break, so an index on due_at can give the order
                .values_list("pk", flat=True)[:limit]
            )
            Reminder.objects.filter(pk__in=ids).update(lease=uuid.uuid4(), leased_until=until, claimed_at=None)
            return ids

    ids = retry_when_locked(attempt)
    return retry_when_locked(lambda: load(ids)) if ids else []


def load(reminder_ids: list[int]) -> list[Reminder]:
    """These reminders with what checking and sending them reads (patient, user, plan, steps, holds), in id order.

    Id order is the order a lease is sent in, which recovery relies on.
    """
    steps, phases, *patients_holds = Plan.schedule_prefetches("plan__")
    rows = list(
        Reminder.objects.filter(pk__in=reminder_ids)
        .select_related("patient__user", "plan")
        .prefetch_related(steps, phases)
        .order_by("pk")
    )
    for reminder in rows:
        if reminder.plan.patient_id == reminder.patient_id:
            reminder.plan.patient = reminder.patient  # the same row: no second fetch of every patient
    prefetch_related_objects(rows, *patients_holds)  # procedures and irritation flags, after the patient is shared
    return rows


def claim(reminder: Reminder, *, now: dt.datetime) -> bool:
    """Flip `reminder` to `sending` if it is due at `now` and unchanged since it was loaded. True if this caller won it.

    One conditional UPDATE on the status and lease this worker loaded: of any
    number of workers holding the row, exactly one wins, and a worker whose
    lease ran out and was taken again finds the lease changed and loses.
    """
    if not reminder.is_due(now):
        return False
    won = Reminder.objects.filter(pk=reminder.pk, status=reminder.status, lease=reminder.lease)
    return retry_when_locked(lambda: won.update(status=Reminder.Status.SENDING, claimed_at=now)) == 1


def record(reminder: Reminder, **fields) -> None:
    """Write the failure or skip of a row this worker claimed (a row still `sending`)."""
    ours = Reminder.objects.filter(pk=reminder.pk, status=Reminder.Status.SENDING)
    retry_when_locked(lambda: ours.update(leased_until=None, **fields))


def settle(reminders) -> int:
    """Record those of `reminders` still `sending` as sent, when each send began; returns how many.

    Only for rows whose transport call returned: the end of a batch, or
    recovery's rows that were followed by another claim.
    """
    return retry_when_locked(
        lambda: reminders.filter(status=Reminder.Status.SENDING).update(
            status=Reminder.Status.SENT,
            sent_at=F("claimed_at"),
            attempts=F("attempts") + 1,
            next_attempt_at=None,
            last_error="",
            leased_until=None,
        )
    )


def send_one(reminder: Reminder, *, now: dt.datetime, hidden_words: list[str]) -> str:
    """Claim, check and send one leased reminder. Returns the status it is left in.

    "sending" when the transport took it: the next claim in the lease, or the
    batch's `settle`, records it as sent. Skips and failures are recorded
    here. "" when another worker claimed it first.
    """
    if not claim(reminder, now=now):
        return ""
    try:
        message = compose(reminder, hidden_words=hidden_words)
        if isinstance(message, str):
            record(reminder, status=Reminder.Status.SKIPPED, skip_reason=message)
            return Reminder.Status.SKIPPED
        get_transport(reminder.channel).send(message)
    except Exception as exc:
        # Anything unexpected is recorded like a transport error, never left "sending".
        if not isinstance(exc, TransportError):
            logger.exception("Reminder %s failed unexpectedly", reminder.pk)
            exc = TransportError(f"{type(exc).__name__}: {exc}")
        attempts = reminder.attempts + 1
        record(
            reminder,
            status=Reminder.Status.FAILED,
            attempts=attempts,
            last_error=exc.message[:2000],
            next_attempt_at=next_attempt_at(reminder, attempts=attempts, now=now, permanent=exc.permanent),
        )
        return Reminder.Status.FAILED
    return Reminder.Status.SENDING


def next_attempt_at(reminder: Reminder, *, attempts: int, now: dt.datetime, permanent: bool) -> dt.datetime | None:
    """When to retry after `attempts` failed tries: exponential back-off, None to give up."""
    if permanent or attempts >= settings.REMINDER_MAX_ATTEMPTS:
        return None
    at = now + dt.timedelta(seconds=settings.REMINDER_RETRY_BASE_SECONDS * 2 ** (attempts - 1))
    return at if at <= reminder.due_at + grace() else None


def compose(reminder: Reminder, *, hidden_words: list[str]) -> Message | str:
    """The message for this claimed row (a step reminder or a weekly digest), or the reason to skip it."""
    steps = None if reminder.is_digest else reminder.plan.steps_due_on(reminder.local_date)[reminder.slot]
    return skip_reason(reminder, steps=steps) or build_message(reminder, steps=steps, hidden_words=hidden_words)


def skip_reason(reminder: Reminder, *, steps: list | None) -> str:
    """Why this claimed reminder must not be sent, or "" to send it. `steps`: those due, None for a digest.

    Too late is not among the reasons: a claim only wins a row inside the grace
    window, and `skip_late` records the rest.
    """
    patient, plan, day = reminder.patient, reminder.plan, reminder.local_date
    if patient.reminders_paused_on(day):
        return "The patient paused reminders."
    if plan.status == Plan.Status.ENDED or (plan.end_date and day > plan.end_date):
        return "The plan has ended."
    if not plan.is_running_on(day):
        return f"The plan is not running on {day:%Y-%m-%d} ({plan.get_status_display().lower()})."
    if reminder.channel not in consented_channels(patient):
        return f"No consent for {reminder.get_channel_display()} reminders."
    if reminder.is_digest:
        return "" if wants_digest(patient) else "The patient turned off the weekly digest."
    if not patient.step_reminders:
        return "The patient turned off step reminders."
    if not steps:
        return "No steps are due in this slot any more."
    return ""


def retry_when_locked(operation, *, tries: int = 50):
    """Run `operation()`, retrying while the database is busy or the connection was lost.

    SQLite allows one writer; past its busy timeout (and at once in the
    shared-cache in-memory database tests use) it raises "locked" instead of
    waiting. A dropped connection (database restart, network) is reopened,
    a few times at most. Each operation here is one statement or one
    transaction that either happened or did not, and is written so that
    running it again cannot send anything twice (a claim that did commit
    before the connection dropped reads as lost, so its row stays "sending"
    unsent, and recovery records it as failed, never re-sent).
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


# --- Messages --------------------------------------------------------------


def condition_names() -> list[str]:
    """Names, in every language, that must never appear in a message (email and SMS are not private)."""
    return [name for pair in Condition.objects.values_list("name", "name_es") for name in pair if name]


def names_a_condition(text: str, hidden_words: list[str]) -> bool:
    words = [re.escape(word) for word in hidden_words if word]
    return bool(words) and re.search("|".join(words), text, re.IGNORECASE) is not None


def safe_step_names(steps: list, hidden_words: list[str]) -> list[str]:
    """Step titles for a message, in the active language; a title naming a condition becomes a neutral label."""
    neutral = _("Step %(number)s of your routine")
    titles = [step_title(step, translation.get_language()) for step in steps]
    return [
        neutral % {"number": n} if names_a_condition(title, hidden_words) else title
        for n, title in enumerate(titles, start=1)
    ]


def safe_article_title(article, hidden_words: list[str]) -> str:
    """An article's title for a message; one naming a condition becomes a neutral label."""
    return _("An article from your care team") if names_a_condition(article.title, hidden_words) else article.title


def unsubscribe_token(patient: Patient, channel: str) -> str:
    """A signed token to unsubscribe in one click from `channel` (email, sms) or the digest (UNSUBSCRIBE_DIGEST)."""
    return signing.dumps({"p": patient.pk, "c": channel}, salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    """(patient id, channel or UNSUBSCRIBE_DIGEST) from a token; raises signing.BadSignature if forged."""
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    kinds = [*Reminder.Channel.values, UNSUBSCRIBE_DIGEST]
    if not isinstance(data, dict) or data.get("c") not in kinds or not isinstance(data.get("p"), int):
        raise signing.BadSignature("Malformed unsubscribe token")
    return data["p"], data["c"]


def unsubscribe_url(patient: Patient, channel: str) -> str:
    return portal_url(reverse("reminders:unsubscribe", args=[unsubscribe_token(patient, channel)]))


def settings_url() -> str:
    return portal_url(_settings_path())


@functools.cache
def _settings_path() -> str:
    return reverse("reminders:settings")


def build_message(reminder: Reminder, *, steps: list | None, hidden_words: list[str]) -> Message:
    """The reminder's or digest's text (and HTML for email), in the patient's language.

    Names steps and (in a digest) an article; never the plan or a condition.
    """
    with translation.override(language_of(reminder.patient)):
        if reminder.is_digest:
            return _build_digest(reminder, hidden_words=hidden_words)
        return _build_message(reminder, steps=steps, hidden_words=hidden_words)


def _base_context(patient: Patient, unsubscribe_from: str) -> dict:
    """What every message's template reads: greeting, links and the clinic's signature."""
    return {
        "first_name": patient.first_name,
        "portal_url": portal_url(reverse("home")),
        "settings_url": settings_url(),
        "unsubscribe_url": unsubscribe_url(patient, unsubscribe_from),
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
    }


def _email(patient: Patient, template: str, context: dict) -> Message:
    """An email from the `template` triplet (_subject.txt, .txt, .html) with RFC 8058 one-click unsubscribe."""
    return Message(
        to=patient.user.email,
        subject=" ".join(render_to_string(f"{template}_subject.txt", context).split()),
        text=render_to_string(f"{template}.txt", context),
        html=render_to_string(f"{template}.html", context),
        headers={
            # RFC 8058 one-click unsubscribe: mail clients POST to this URL.
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def _build_message(reminder: Reminder, *, steps: list, hidden_words: list[str]) -> Message:
    patient = reminder.patient
    names = safe_step_names(steps, hidden_words)
    context = {
        **_base_context(patient, reminder.channel),
        "slot": reminder.get_slot_display().lower(),
        "steps": names,
        "count": len(names),
    }
    if reminder.channel == Reminder.Channel.SMS:
        return Message(to=patient.phone, subject="", text=render_to_string("emails/reminder_sms.txt", context).strip())
    return _email(patient, "emails/reminder", context)


def _build_digest(reminder: Reminder, *, hidden_words: list[str]) -> Message:
    patient = reminder.patient
    content = digest.digest_for(reminder)
    article = content.article
    context = {
        **_base_context(patient, UNSUBSCRIBE_DIGEST),
        "week": content.week,
        "on_track": content.on_track,
        "tip": content.tip,
        "article_title": safe_article_title(article, hidden_words) if article else "",
        # By number, not slug: a slug can name the condition.
        "article_url": portal_url(reverse("education:article-by-number", args=[article.pk])) if article else "",
        "pauses": [
            {"summary": pause.summary, "steps": ", ".join(safe_step_names(pause.steps, hidden_words))}
            for pause in content.pauses
        ],
    }
    return _email(patient, "emails/digest", context)
