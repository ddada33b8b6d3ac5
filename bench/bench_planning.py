"""Reminder planning at 100,000 plans on PostgreSQL: the first pass, and the passes a worker makes after it.

    .venv/bin/python bench/bench_planning.py [--plans 100000] [--reuse] [--db bench_planning]

Builds (or, with --reuse, keeps) its own database,
postgres://postgres@127.0.0.1:5432/<--db>: `seed_demo` for the Milia care
template, one patient per plan (four US time zones, reminder times spread over
the morning and the evening a quarter hour apart, 70% consenting to email,
10% to SMS, half with the weekly digest), one plan copied from the template by
`assign_routine` and then, in bulk, one like it for every patient (its steps
and ramp-up phases), procedures for 5% of the patients and open skin flags for
1%. Then, in one transaction it rolls back, times:

1. the first pass of a worker (every plan, the whole window);
2. a pass at the same instant, every row already there;
3. a pass one minute later, nothing changed (what a worker does every minute);
4. the busiest minute of the day: the one bringing the most reminder times
   into the window;
5. a pass one minute later still, after 1% of the plans changed (a step edited each);
6. the daily full pass, every row already there.

Prints each with the rows offered and the plans read. Targets (issue #19):
first pass within 60 s, a pass where nothing changed within 5 s.
"""

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_scale import analyze, bulk, bulk_patients, open_database, say  # noqa: E402

ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"]
MORNINGS = [dt.time(h, m) for h in range(6, 10) for m in (0, 15, 30, 45)]
EVENINGS = [dt.time(h, m) for h in range(19, 23) for m in (0, 15, 30, 45)]


def build(count: int, *, today: dt.date) -> None:
    from django.core.management import call_command

    from portal.models import Patient
    from routines.models import IrritationFlag, Plan, PlanPhase, PlanStep, Procedure, ProcedureType, RoutineTemplate
    from routines.services import assign_routine

    rng = random.Random(2027)
    say("seed_demo")
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    template = RoutineTemplate.objects.get(name="Milia care")

    bulk_patients(
        count,
        letter="q",
        zones=ZONES,
        user=lambda n: dict(password="!unusable"),
        patient=lambda n: dict(
            morning_reminder_time=rng.choice(MORNINGS),
            evening_reminder_time=rng.choice(EVENINGS),
            email_consent=n % 10 < 7,
            sms_consent=n % 10 == 9,
            weekly_digest=n % 2 == 0,
            digest_weekday=n % 7,
        ),
    )
    ids = list(Patient.objects.filter(chart_number__startswith="Q-").order_by("pk").values_list("pk", flat=True))

    say("plans: one through assign_routine, the rest copied from it in bulk")
    model = assign_routine(
        patient=Patient.objects.get(pk=ids[0]), template=template, start_date=today, assigned_by=None
    )
    steps = list(model.steps.prefetch_related("phases"))
    starts = {pk: today - dt.timedelta(days=rng.randrange(0, 200)) for pk in ids[1:]}
    bulk(
        Plan,
        (Plan(patient_id=pk, template=template, name=model.name, start_date=starts[pk]) for pk in ids[1:]),
        label="plans",
        total=count - 1,
    )
    plan_ids = list(Plan.objects.filter(patient_id__in=starts).order_by("pk").values_list("pk", flat=True))
    fields = [f.attname for f in PlanStep._meta.concrete_fields if f.attname not in ("id", "plan_id")]
    bulk(
        PlanStep,
        (
            PlanStep(plan_id=plan_id, **{name: getattr(step, name) for name in fields})
            for plan_id in plan_ids
            for step in steps
        ),
        label="steps",
        total=len(plan_ids) * len(steps),
    )
    ramping = {(step.slot, step.order): list(step.phases.all()) for step in steps if step.phases.all()}
    if ramping:
        phase_fields = [f.attname for f in PlanPhase._meta.concrete_fields if f.attname not in ("id", "step_id")]
        copies = PlanStep.objects.filter(plan_id__in=plan_ids, order__in=[order for _, order in ramping])
        bulk(
            PlanPhase,
            (
                PlanPhase(step_id=pk, **{name: getattr(phase, name) for name in phase_fields})
                for pk, slot, order in copies.values_list("pk", "slot", "order").iterator()
                for phase in ramping.get((slot, order), ())
            ),
            label="phases",
            total=len(plan_ids) * sum(map(len, ramping.values())),
        )
    peel = ProcedureType.objects.order_by("pk").first()
    bulk(
        Procedure,
        (
            Procedure(patient_id=pk, type=peel, date=today + dt.timedelta(days=rng.randrange(-3, 10)))
            for pk in ids[::20]
        ),
        label="procedures",
        total=len(ids) // 20,
    )
    bulk(
        IrritationFlag,
        (IrritationFlag(patient_id=pk, raised_on=today, reason="Red and sore twice") for pk in ids[::100]),
        label="skin flags",
        total=len(ids) // 100,
    )


def busiest_minute(now: dt.datetime) -> dt.datetime:
    """The `now` whose window gains the most reminder times in its last minute, within a day after `now`."""
    import zoneinfo
    from collections import Counter

    from django.conf import settings

    from portal.models import Patient

    ahead = dt.timedelta(hours=settings.REMINDER_PLAN_AHEAD_HOURS)
    times = Counter()
    rows = Patient.objects.filter(chart_number__startswith="Q-").values_list(
        "time_zone", "morning_reminder_time", "evening_reminder_time"
    )
    for zone, *at in rows.iterator():
        for wall in at:
            times[zone, wall] += 1
    (zone, wall), _ = times.most_common(1)[0]
    tz = zoneinfo.ZoneInfo(zone)
    day = (now + ahead).astimezone(tz).date()
    due = dt.datetime.combine(day, wall, tzinfo=tz)
    if due <= now + ahead:
        due += dt.timedelta(days=1)
    return due.astimezone(dt.UTC) - ahead


def time_passes() -> list[tuple[str, float, int, int]]:
    from django.db import transaction
    from django.utils import timezone

    from reminders import planning
    from reminders.models import ReplanRequest
    from routines.models import Plan, PlanStep

    results = []

    def timed(label: str, **kwargs) -> None:
        read = []
        kwargs.setdefault("between_batches", lambda: read.append(1))
        started = time.perf_counter()
        offered = planning.plan_reminders(**kwargs)
        seconds = time.perf_counter() - started
        results.append((label, seconds, offered, len(read)))
        say(f"{label}: {seconds:.2f} s, {offered:,} rows offered, {len(read)} batches of plans read")

    now = timezone.now().replace(second=0, microsecond=0)
    with transaction.atomic():
        ReplanRequest.objects.all().delete()  # the build's own requests: the first pass plans everyone anyway
        timed("first pass (every plan, whole window)", now=now)
        timed("same instant, every row there", now=now, since=now)
        minute = dt.timedelta(minutes=1)
        timed("a minute later, nothing changed", now=now + minute, since=now)
        busy = busiest_minute(now + minute)
        timed(f"busiest minute ({busy:%H:%M} UTC), nothing changed", now=busy, since=busy - minute)
        changed = Plan.objects.filter(patient__chart_number__startswith="Q-", status=Plan.Status.ACTIVE)
        for plan_id in changed.order_by("?").values_list("pk", flat=True)[: changed.count() // 100]:
            step = PlanStep.objects.filter(plan_id=plan_id).first()
            step.instructions += " "
            step.save()  # as the admin saves it: a post_save asks for a replan of this patient
        timed(f"a minute after that, {ReplanRequest.objects.count():,} plans changed", now=busy + minute, since=busy)
        timed("daily full pass, every row there", now=busy + 2 * minute)
        transaction.set_rollback(True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plans", type=int, default=100_000)
    parser.add_argument("--db", default="bench_planning")
    parser.add_argument("--reuse", action="store_true", help="keep the database if it exists")
    args = parser.parse_args()
    open_database(args.db, reuse=args.reuse)
    from django.utils import timezone

    from portal.models import Patient
    from reminders import planning

    if not Patient.objects.filter(chart_number__startswith="Q-").exists():
        started = time.monotonic()
        build(args.plans, today=timezone.localdate())
        say(f"built in {(time.monotonic() - started) / 60:.1f} min")
    analyze()
    plans = Patient.objects.filter(chart_number__startswith="Q-").count()
    results = time_passes()
    print(f"\nReminder planning, {plans:,} plans (one a patient), PostgreSQL, batches of {planning.PLAN_BATCH_SIZE}\n")
    print("| pass | seconds | rows offered | batches of plans read |")
    print("|---|---|---|---|")
    for label, seconds, offered, batches in results:
        print(f"| {label} | {seconds:.2f} | {offered:,} | {batches} |")


if __name__ == "__main__":
    main()
