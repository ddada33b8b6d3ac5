"""Incremental planning: a pass after the first plans only what came into the window and what changed,
and ends with exactly the rows a full pass would make.

The property test builds a small clinic across time zones (DST days included),
makes random changes through the models (steps, ramp phases, procedures, skin
flags, plans, the patients' settings), runs incremental passes at random later
instants, and checks that a full pass afterwards finds nothing missing.
"""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from reminders import planning
from reminders.management.commands.run_reminders import Command
from reminders.models import Reminder, ReplanRequest
from routines import schedule
from routines.models import IrritationFlag, Plan, Product, RoutineTemplate
from routines.services import assign_routine
from tests.factories import (
    TODAY,
    IrritationFlagFactory,
    MiliaCarePlanFactory,
    PatientFactory,
    PlanPhaseFactory,
    PlanStepFactory,
    ProcedureFactory,
    ProcedureTypeFactory,
    ProductFactory,
    RoutineTemplateFactory,
    utc,
)

ZONES = ["America/New_York", "America/Los_Angeles", "Europe/Madrid", "Asia/Kolkata", "Pacific/Auckland", "UTC"]
TIMES = [dt.time(h, m) for h, m in ((0, 0), (1, 30), (2, 30), (7, 0), (8, 0), (12, 15), (20, 30), (23, 45))]
# Around the spring-forward and fall-back weekends of the US and Europe (Auckland turns the other way).
STARTS = [utc(2027, 3, 13, 0, 0), utc(2027, 3, 27, 12, 0), utc(2027, 11, 6, 0, 0), utc(2027, 4, 3, 6, 0)]
DAY = dt.timedelta(days=1)


def rows() -> set:
    return set(Reminder.objects.values_list("plan", "slot", "local_date", "channel", "due_at"))


def ramping_step(plan: Plan, order: int, days: int = 2) -> None:
    retinol = ProductFactory(
        name=f"Retinol {plan.pk}.{order}", category=Product.Category.RETINOID, key_ingredients="retinol"
    )
    step = PlanStepFactory(plan=plan, slot=schedule.EVENING, order=order, product=retinol, instructions="Retinol")
    for n, interval in enumerate((3, 2)):
        PlanPhaseFactory(step=step, order=n, frequency=schedule.EVERY_N_DAYS, interval_days=interval, days=days)


# One change to the clinic, at local date `day` of the first plan: each through the models, as staff and patients do.
CHANGES = {
    "add a daily evening step": lambda plan, day: PlanStepFactory(
        plan=plan, slot=schedule.EVENING, order=plan.steps.count()
    ),
    "add a ramping step": lambda plan, day: ramping_step(plan, order=plan.steps.count()),
    "make every step every other day": lambda plan, day: [_every_other_day(step) for step in plan.steps.all()],
    "book a peel that pauses retinol": lambda plan, day: ProcedureFactory(
        patient=plan.patient, type=ProcedureTypeFactory(name="peel", stops_ingredients="retinol"), date=day + DAY
    ),
    "cancel the procedures": lambda plan, day: [p.delete() for p in plan.patient.procedures.all()],
    "open a skin flag": lambda plan, day: (
        IrritationFlag.objects.open().filter(patient=plan.patient).exists()
        or IrritationFlagFactory(patient=plan.patient, raised_on=day)
    ),
    "review the skin flags": lambda plan, day: [
        _review(flag) for flag in IrritationFlag.objects.open().filter(patient=plan.patient)
    ],
    "assign a new routine from tomorrow": lambda plan, day: assign_routine(
        patient=plan.patient,
        template=RoutineTemplate.objects.get(name="Milia care"),
        start_date=day + DAY,
        assigned_by=None,
    ),
    "end the plan tomorrow": lambda plan, day: _save_plan(plan, end_date=day + DAY),
    "move the morning reminder": lambda plan, day: _save_patient(plan, morning_reminder_time=dt.time(9, 45)),
    "turn on the digest on that weekday": lambda plan, day: _save_patient(
        plan, weekly_digest=True, digest_weekday=day.weekday(), digest_time=dt.time(23, 0)
    ),
    "turn reminders on": lambda plan, day: _save_patient(plan, step_reminders=True, email_consent=True),
}


def _every_other_day(step) -> None:
    step.frequency, step.interval_days = schedule.EVERY_N_DAYS, 2
    step.save()


def _save_plan(plan: Plan, **fields) -> None:
    plan.refresh_from_db()
    for name, value in fields.items():
        setattr(plan, name, value)
    plan.save()


def _save_patient(plan: Plan, **fields) -> None:
    patient = plan.patient
    patient.refresh_from_db()
    for name, value in fields.items():
        setattr(patient, name, value)
    patient.save()


def _review(flag: IrritationFlag) -> None:
    flag.reviewed_at = flag.raised_at + DAY
    flag.save()


patients = st.fixed_dictionaries(
    {
        "time_zone": st.sampled_from(ZONES),
        "morning_reminder_time": st.sampled_from(TIMES[:4] + TIMES[4:6]),
        "evening_reminder_time": st.sampled_from([dt.time(20, 30), dt.time(23, 45)]),
        "step_reminders": st.booleans(),
        "sms_consent": st.booleans(),
        "weekly_digest": st.booleans(),
        "digest_weekday": st.integers(0, 6),
        "digest_time": st.sampled_from(TIMES),
    }
)
passes = st.lists(
    st.tuples(
        # Minutes since the previous pass: the worker's minute, a long pause, longer than the window.
        st.sampled_from([1, 10, 60, 7 * 60, 20 * 60, 3 * 24 * 60]),
        st.lists(st.tuples(st.integers(0, 2), st.sampled_from(sorted(CHANGES))), max_size=3),
    ),
    min_size=1,
    max_size=3,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(clinic=st.lists(patients, min_size=1, max_size=3), start=st.sampled_from(STARTS), passes=passes)
def test_incremental_passes_make_exactly_the_rows_of_a_full_pass(db, clinic, start, passes):
    with transaction.atomic():
        RoutineTemplateFactory(name="Milia care")
        plans = []
        for fields in clinic:
            patient = PatientFactory(email_consent=True, **fields)
            plan = MiliaCarePlanFactory(patient=patient, start_date=dt.date(2027, 1, 1))
            plans.append(plan)
        planning.plan_reminders(now=start)  # a worker's first pass: everything
        now = start
        for minutes, changes in passes:
            for which, change in changes:
                plan = plans[which % len(plans)]
                CHANGES[change](plan, now.astimezone(plan.patient.tz).date())
            since, now = now, now + dt.timedelta(minutes=minutes)
            full = planning.window(since)[1] < planning.window(now)[0] or ReplanRequest.objects.filter(patient_id=None)
            event("a full pass" if full else "an incremental pass")  # --hypothesis-show-statistics
            planning.plan_reminders(now=now, since=since)
            incremental = rows()
            assert not ReplanRequest.objects.exists()  # every request read was done and deleted
            planning.plan_reminders(now=now)  # a full pass
            assert rows() == incremental
        transaction.set_rollback(True)


# --- What a pass reads --------------------------------------------------------

NOW = utc(2027, 3, 2, 12, 0)  # 07:00 in New York


def test_a_pass_with_nothing_new_reads_no_plan(alice, bob, django_assert_max_num_queries):
    MiliaCarePlanFactory(patient=alice)
    MiliaCarePlanFactory(patient=bob)
    planning.plan_reminders(now=NOW)
    assert not ReplanRequest.objects.exists()
    later = NOW + dt.timedelta(minutes=1)  # 19:01 in New York 36 hours ahead: nobody's time
    # The requests, the zones, the (empty) plans: not one query per plan, and nothing offered.
    with django_assert_max_num_queries(3):
        assert planning.plan_reminders(now=later, since=NOW) == 0


def test_a_new_minute_plans_only_the_patients_whose_time_it_is(alice, bob):
    MiliaCarePlanFactory(patient=alice)
    MiliaCarePlanFactory(patient=bob)
    planning.plan_reminders(now=NOW)
    bob.morning_reminder_time = dt.time(8, 30)
    bob.save()
    ReplanRequest.objects.all().delete()  # as if bob's change had been planned (it was not: see below)
    # 36 hours ahead of 01:30 UTC on 3 March is 08:30 on 4 March in New York: bob's morning, not alice's.
    later = utc(2027, 3, 3, 1, 30)
    assert planning.plan_reminders(now=later, since=later - dt.timedelta(minutes=1)) == 1
    row = Reminder.objects.get(due_at=later + dt.timedelta(hours=36))
    assert (row.patient, row.slot, row.local_date) == (bob, schedule.MORNING, dt.date(2027, 3, 4))


def test_changes_ask_for_a_replan_in_their_own_transaction(alice, bob):
    plan = MiliaCarePlanFactory(patient=alice)
    ReplanRequest.objects.all().delete()
    ProcedureFactory(patient=bob)
    PlanPhaseFactory(step=plan.steps.first(), frequency=schedule.EVERY_N_DAYS, interval_days=3, days=7)
    assert sorted(ReplanRequest.objects.values_list("patient_id", flat=True)) == [alice.pk, bob.pk]
    ReplanRequest.objects.all().delete()
    laser = ProcedureTypeFactory(name="laser", stops_ingredients="retinol")
    assert not ReplanRequest.objects.exists()  # a new type pauses nobody yet
    laser.stops_ingredients = "retinol, glycolic acid"
    laser.save()
    assert list(ReplanRequest.objects.values_list("patient_id", flat=True)) == [ReplanRequest.EVERYONE]


def test_a_flag_reviewed_in_the_admin_resumes_the_ramp_in_the_next_pass(frozen, alice, derm):
    plan = MiliaCarePlanFactory(patient=alice, start_date=TODAY - 9 * DAY, steps=[])
    ramping_step(plan, order=0, days=1)  # one evening, then every other evening for a day, then nightly
    IrritationFlagFactory(patient=alice, raised_on=plan.start_date)  # held at every 3 evenings since
    now = utc(2027, 3, 10, 17, 0)  # noon in New York on TODAY
    planning.plan_reminders(now=now)
    held = rows()
    staff = Client()
    staff.force_login(derm)
    flag = IrritationFlag.objects.get(patient=alice)
    staff.post("/admin/routines/irritationflag/", {"action": "mark_reviewed", "_selected_action": [flag.pk]})
    assert list(ReplanRequest.objects.values_list("patient_id", flat=True)) == [alice.pk]
    later = now + dt.timedelta(minutes=1)
    planning.plan_reminders(now=later, since=now)
    resumed = rows()
    assert resumed > held  # the evening of TODAY + 1, no longer held
    planning.plan_reminders(now=later)
    assert rows() == resumed


def test_between_batches_runs_after_each_batch(alice, bob):
    MiliaCarePlanFactory(patient=alice)
    MiliaCarePlanFactory(patient=bob)
    calls = []
    planning.plan_reminders(now=NOW, batch_size=1, between_batches=lambda: calls.append(Reminder.objects.count()))
    assert len(calls) == 2 and 0 < calls[0] < calls[1]  # each batch's rows written before the callback


def test_the_worker_plans_everything_first_then_what_is_new(alice, monkeypatch):
    MiliaCarePlanFactory(patient=alice)
    seen = []
    plan_as_written = planning.plan_reminders

    def plan_reminders(*, now, since, **kwargs):
        seen.append(since)
        return plan_as_written(now=now, since=since, **kwargs)

    monkeypatch.setattr(planning, "plan_reminders", plan_reminders)
    worker = Command()
    worker.plan_ahead(NOW)
    worker.plan_ahead(NOW + dt.timedelta(minutes=1))
    assert seen == [None, NOW]
    seen.clear()
    call_command("run_reminders", "--once", "--now", NOW.isoformat(), stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert seen == [None]  # --once always plans everything


@pytest.mark.parametrize(
    "zone, day", [("America/New_York", dt.date(2027, 3, 14)), ("Europe/Madrid", dt.date(2027, 3, 28))]
)
def test_a_reminder_in_a_spring_forward_gap_is_planned_when_the_gap_ends(alice, zone, day):
    """02:30 does not exist that night: it is due at 03:00, planned by the minute that brings 03:00 into the window."""
    alice.time_zone, alice.morning_reminder_time = zone, dt.time(2, 30)
    alice.save()
    MiliaCarePlanFactory(patient=alice)
    ahead = dt.timedelta(hours=36)
    due = planning.local_due_at(day, dt.time(2, 30), alice.tz)
    assert due.astimezone(alice.tz).time() == dt.time(3, 0)
    before = due - dt.timedelta(minutes=1)  # 01:59, the last minute before the gap
    planning.plan_reminders(now=before - ahead)
    assert not Reminder.objects.filter(slot=schedule.MORNING, local_date=day).exists()
    planning.plan_reminders(now=due - ahead, since=before - ahead)
    assert Reminder.objects.get(slot=schedule.MORNING, local_date=day).due_at == due


def test_the_worker_sends_what_planning_made_due_between_its_batches(alice, bob, mailoutbox, monkeypatch):
    monkeypatch.setattr(planning, "PLAN_BATCH_SIZE", 1)
    MiliaCarePlanFactory(patient=alice)
    MiliaCarePlanFactory(patient=bob)
    due = utc(2027, 3, 2, 13, 0)  # 08:00 in New York: both patients' morning reminder
    sent_before_bob_was_planned = []
    reminders_as_written = planning.reminders_for_plan

    def reminders_for_plan(plan, **window):
        if plan.patient_id == bob.pk:
            sent_before_bob_was_planned.append(len(mailoutbox))
        return reminders_as_written(plan, **window)

    monkeypatch.setattr(planning, "reminders_for_plan", reminders_for_plan)
    Command().plan_ahead(due, due)
    assert sent_before_bob_was_planned == [1]  # alice's reminder went out before bob's plan was even read
    assert len(mailoutbox) == 2
