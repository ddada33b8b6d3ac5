"""Planning reminders: which rows to create, and when each is due.

For each active plan, slot and local date with at least one step due
(`plan.steps_due_on`), one row per consented channel, due at the patient's
local reminder time converted to UTC. Only rows due inside
[now - grace, now + plan-ahead] are created, so a first run never backfills
history. Inserts are batched `bulk_create(ignore_conflicts=True)`: the unique
(plan, slot, local_date, channel) constraint makes planning idempotent and
safe to run from several workers at once.

Incremental. After a worker's first pass, a pass reads only the plans that can
have a row new to the window (their patient's reminder time falls in the
minutes the window gained) and the patients whose schedule changed since
(ReplanRequest rows, written by reminders/signals.py): see `plan_reminders`.

Weekly digest. For a patient who chose it and consented to email, one more
email row on their digest weekday (slot "digest", local date that day, at
their digest time) while a plan runs that day; a patient-and-date unique
constraint keeps it to one even when two plans run. Step reminders are
planned only for patients who chose them.

Daylight saving. A reminder time that does not exist on a spring-forward day
moves to the first valid minute after the gap; an ambiguous time on a
fall-back day uses its first occurrence (fold=0). Exactly one reminder per
slot and date either way.
"""

import datetime as dt
import operator
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from functools import reduce

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet

from portal.models import Patient
from routines import schedule
from routines.models import Plan, PlanStep

from .models import DIGEST, Reminder, ReplanRequest, grace

SLOTS = (schedule.MORNING, schedule.EVENING)
# Plans read at a time. Small enough that PostgreSQL finds a batch's ramp-up phases through the step index
# (at 500 plans it scans the whole phase table instead), and sending gets a turn after each.
PLAN_BATCH_SIZE = 100


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
    """Unsaved step-reminder rows for `plan` due within [start, end] (none if the patient turned them off)."""
    patient = plan.patient
    channels = consented_channels(patient) if patient.step_reminders else []
    if not channels:
        return
    tz = patient.tz
    # Each slot's instant on each local date the window touches, kept only inside the window...
    due = {}
    day, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    while day <= last:
        for slot in SLOTS:
            due_at = local_due_at(day, reminder_time(patient, slot), tz)
            if start <= due_at <= end:
                due[day, slot] = due_at
        day += dt.timedelta(days=1)
    if not due:
        return
    # ...and the timetable read once for just those dates (`days`, not `steps_due_on` date by date).
    first, last = min(day for day, _ in due), max(day for day, _ in due)
    for entry in plan.days(first, (last - first).days + 1):
        for slot in SLOTS:
            if (entry["date"], slot) in due and entry["due"][slot]:
                for channel in channels:
                    yield Reminder(
                        patient=patient,
                        plan=plan,
                        slot=slot,
                        local_date=entry["date"],
                        due_at=due[entry["date"], slot],
                        channel=channel,
                    )


def wants_digest(patient: Patient) -> bool:
    """Whether the patient chose the weekly digest and may be emailed."""
    return patient.weekly_digest and patient.email_consent


def digests_for_plan(plan: Plan, *, start: dt.datetime, end: dt.datetime) -> Iterator[Reminder]:
    """Unsaved weekly-digest rows for `plan`'s patient due within [start, end], on days the plan runs."""
    patient = plan.patient
    if not wants_digest(patient):
        return
    tz = patient.tz
    day, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    day += dt.timedelta(days=(patient.digest_weekday - day.weekday()) % 7)
    while day <= last:
        due_at = local_due_at(day, patient.digest_time, tz)
        if start <= due_at <= end and plan.is_running_on(day):
            yield Reminder(
                patient=patient, plan=plan, slot=DIGEST, local_date=day, due_at=due_at, channel=Reminder.Channel.EMAIL
            )
        day += dt.timedelta(days=7)


def batched(items: list, size: int) -> Iterator[list]:
    """`items` in lists of `size` (itertools.batched arrives with Python 3.12)."""
    for first in range(0, len(items), size):
        yield items[first : first + size]


def window(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The instants a pass at `now` plans reminders for: [now - grace, now + plan-ahead]."""
    return now - grace(), now + dt.timedelta(hours=settings.REMINDER_PLAN_AHEAD_HOURS)


# What planning reads of a plan, its patient and its steps (the timetable's rules).
PLAN_COLUMNS = ("patient", "status", "start_date", "end_date")
PATIENT_COLUMNS = (
    "time_zone",
    "morning_reminder_time",
    "evening_reminder_time",
    "email_consent",
    "sms_consent",
    "step_reminders",
    "weekly_digest",
    "digest_weekday",
    "digest_time",
)
STEP_COLUMNS = ("plan", "product", "slot", "order", "frequency", "interval_days", "offset_days", "weekdays")


def plans_due_between(start: dt.datetime, end: dt.datetime) -> QuerySet:
    """Active plans that may have a reminder or digest due in [start, end], with what `steps_due_on` reads."""
    # Any local date some zone (UTC-12 … UTC+14) can have inside the window.
    first_day, last_day = (start - dt.timedelta(hours=12)).date(), (end + dt.timedelta(hours=14)).date()
    return (
        Plan.objects.filter(status=Plan.Status.ACTIVE, start_date__lte=last_day)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=first_day))
        .filter(
            Q(patient__step_reminders=True, patient__email_consent=True)
            | Q(patient__step_reminders=True, patient__sms_consent=True)
            | Q(patient__weekly_digest=True, patient__email_consent=True)
        )
        .select_related("patient")
        # Only the columns planning reads: at 100,000 plans, building model instances is much of a pass.
        .only(*PLAN_COLUMNS, *(f"patient__{name}" for name in PATIENT_COLUMNS))
        # Steps, phases and the patients' procedures (holds): a few queries per chunk, not per plan. The
        # steps' products only for the patients with a procedure (`Plan.with_held_products`): only holds read them.
        .prefetch_related(*Plan.schedule_prefetches(steps=PlanStep.objects.only(*STEP_COLUMNS), products=False))
        .order_by("pk")
    )


def times_between(start: dt.datetime, end: dt.datetime) -> Q:
    """Plans whose patient has a reminder or digest time falling in [start, end] on their own clock.

    Per time zone, the wall-clock times the instants cover (whole minutes: reminders
    go out on the minute). A superset, which is all it must be: the rows themselves
    are checked against [start, end] to the second. A DST gap's times are due at
    the gap's end, between the same walls; a fall-back hour walks the clock
    backwards, and then the whole zone is taken.
    """
    fields = ("morning_reminder_time", "evening_reminder_time", "digest_time")
    matches = Q(pk__in=[])
    for name in Patient.objects.order_by().values_list("time_zone", flat=True).distinct():
        tz = zoneinfo.ZoneInfo(name)
        first = start.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)
        last = end.astimezone(tz).replace(tzinfo=None, second=59, microsecond=999999)
        in_zone = Q(patient__time_zone=name)
        if first <= last < first + dt.timedelta(days=1):
            low, high = first.time(), last.time()

            def covered(field: str, low=low, high=high) -> Q:
                after, before = Q(**{f"patient__{field}__gte": low}), Q(**{f"patient__{field}__lte": high})
                return after & before if low <= high else after | before  # past midnight: late or early

            in_zone &= reduce(operator.or_, map(covered, fields))
        matches |= in_zone
    return matches


def plan_reminders(
    *,
    now: dt.datetime,
    since: dt.datetime | None = None,
    patient_ids: Iterable[int] | None = None,
    batch_size: int | None = None,
    between_batches: Callable[[], object] | None = None,
) -> int:
    """Create the missing reminders due in [now - grace, now + plan-ahead].

    Idempotent: inserts ignore rows that exist. Which plans it reads:

    - `since` None (a worker's first pass): every active plan, over the whole window;
    - `since`, the `now` of this worker's last finished pass: the patients with a
      ReplanRequest over the whole window, and every other plan only for what
      has come into the window since, i.e. (since + plan-ahead, now + plan-ahead],
      read only for patients with a reminder time in it (`times_between`). A
      full pass gives the same rows; the requests make sure nothing that changed
      is missed;
    - `patient_ids`: those patients' plans over the whole window, nothing else.

    Walks plans in primary-key batches so memory stays flat however many
    patients there are, and calls `between_batches` after each (the worker sends
    what fell due meanwhile: due reminders never wait for planning). Returns how
    many candidate rows were offered to the database.
    """
    start, end = window(now)
    batch_size = batch_size or PLAN_BATCH_SIZE

    def plan_batches(plans: QuerySet, start: dt.datetime, end: dt.datetime) -> int:
        offered, last_pk = 0, 0
        while chunk := Plan.with_held_products(list(plans.filter(pk__gt=last_pk)[:batch_size])):
            last_pk = chunk[-1].pk
            rows = [
                row
                for plan in chunk
                for rows_for in (reminders_for_plan, digests_for_plan)
                for row in rows_for(plan, start=start, end=end)
            ]
            Reminder.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
            offered += len(rows)
            if between_batches:
                between_batches()
        return offered

    plans = plans_due_between(start, end)
    if patient_ids is not None:
        return plan_batches(plans.filter(patient_id__in=list(patient_ids)), start, end)
    requests = list(ReplanRequest.objects.values_list("pk", "patient_id"))
    changed = {patient for _, patient in requests}
    new_since = window(since)[1] if since else None
    if new_since is None or new_since < start or ReplanRequest.EVERYONE in changed:
        offered = plan_batches(plans, start, end)
    else:
        offered = sum(
            plan_batches(plans.filter(patient_id__in=ids), start, end) for ids in batched(sorted(changed), batch_size)
        )
        if new_since < end:
            new = plans_due_between(new_since, end).filter(times_between(new_since, end))
            offered += plan_batches(new, new_since, end)
    # Exactly the requests read: one written since is for a change this pass may not have seen.
    for pks in batched([pk for pk, _ in requests], batch_size):
        ReplanRequest.objects.filter(pk__in=pks).delete()
    return offered


@transaction.atomic
def replan_patient(*, patient: Patient, now: dt.datetime) -> None:
    """Re-plan a patient's future reminders after their times, zone or consent changed."""
    Reminder.objects.filter(patient=patient, status=Reminder.Status.PENDING, due_at__gt=now).delete()
    plan_reminders(now=now, patient_ids=[patient.pk])
