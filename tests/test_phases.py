"""Ramp-up (titration) phases: a step's frequency changes over time, and everything follows."""

import datetime as dt
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reminders import planning
from reminders.models import Reminder
from routines import schedule
from routines.models import Plan, PlanPhase, PlanStep, Product, TemplatePhase
from routines.services import assign_routine
from tests.admin_forms import phase_post
from tests.factories import TODAY, PlanFactory, RoutineTemplateFactory

P = schedule.Phase
RETINOL_RAMP = (
    P(schedule.WEEKDAYS, weekdays="03", days=14),  # Mon, Thu for 2 weeks
    P(schedule.EVERY_N_DAYS, interval_days=2, days=14),  # every other evening for 2 weeks
    P(schedule.DAILY),  # then nightly
)
EVENING_STEP = SimpleNamespace(
    slot=schedule.EVENING, frequency=schedule.AS_NEEDED, interval_days=1, offset_days=0, weekdays=""
)

dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31))
phase_values = st.builds(
    P,
    frequency=st.sampled_from([schedule.DAILY, schedule.EVERY_N_DAYS, schedule.WEEKDAYS]),
    interval_days=st.just(3),
    offset_days=st.integers(0, 2),
    weekdays=st.just("035"),
    days=st.integers(1, 45),
)
ramps = st.lists(phase_values, min_size=1, max_size=5).map(lambda ps: (*ps[:-1], P(ps[-1].frequency, days=None)))


pytestmark = pytest.mark.usefixtures("frozen")


# --- The pure function ---------------------------------------------------------


@given(ramp=ramps, start=dates, offset=st.integers(0, 400))
def test_it_puts_each_date_in_exactly_one_phase(ramp, start, offset):
    day = start + dt.timedelta(offset)
    spans = schedule.phase_spans(ramp, start=start)
    containing = [s for s in spans if s.first <= day and (s.last is None or day <= s.last)]
    assert len(containing) == 1
    assert schedule.phase_on(ramp, day, start=start) == containing[0]
    assert schedule.phase_on(ramp, start - dt.timedelta(1), start=start) is None


@given(ramp=ramps, start=dates)
def test_it_lays_phases_back_to_back_across_month_ends(ramp, start):
    spans = schedule.phase_spans(ramp, start=start)
    assert spans[0].first == start and spans[-1].last is None
    elapsed = 0
    for span, following in zip(spans, spans[1:], strict=False):
        elapsed += span.phase.days
        # Counting days from the start, never by month arithmetic: 31 Jan + 14 days is 14 Feb.
        assert following.first == start + dt.timedelta(elapsed)
        assert following.first - span.last == dt.timedelta(1)
        assert (span.last - span.first).days + 1 == span.phase.days


@given(ramp=ramps, start=dates, offset=st.integers(0, 400))
def test_it_follows_the_phase_the_date_falls_in(ramp, start, offset):
    day = start + dt.timedelta(offset)
    span = schedule.phase_on(ramp, day, start=start)
    alone = SimpleNamespace(
        slot=schedule.EVENING,
        **{k: getattr(span.phase, k) for k in ("frequency", "interval_days", "offset_days", "weekdays")},
    )
    # A phase behaves like a plain step whose plan started on the phase's first day.
    expected = schedule.is_due(alone, day, start=span.first, end=None)
    assert schedule.is_due(EVENING_STEP, day, start=start, end=None, phases=ramp) == expected


def test_it_ramps_retinol_from_two_evenings_a_week_to_nightly():
    start = dt.date(2027, 1, 25)  # a Monday; the phases cross the end of January and of February
    due = [
        d
        for d in (start + dt.timedelta(n) for n in range(35))
        if schedule.is_due(EVENING_STEP, d, start=start, end=None, phases=RETINOL_RAMP)
    ]
    first_fortnight = [d for d in due if d < dt.date(2027, 2, 8)]
    assert [d.strftime("%a %d %b") for d in first_fortnight] == ["Mon 25 Jan", "Thu 28 Jan", "Mon 01 Feb", "Thu 04 Feb"]
    middle = [d for d in due if dt.date(2027, 2, 8) <= d < dt.date(2027, 2, 22)]
    assert middle == [dt.date(2027, 2, 8) + dt.timedelta(2 * n) for n in range(7)]
    assert [d for d in due if d >= dt.date(2027, 2, 22)] == [dt.date(2027, 2, 22) + dt.timedelta(n) for n in range(7)]


def test_it_describes_the_ramp_and_where_the_patient_is():
    start = dt.date(2027, 4, 14)
    assert schedule.describe(EVENING_STEP, RETINOL_RAMP) == (
        "Mon, Thu evenings for 2 weeks, then every other evening for 2 weeks, then every evening"
    )
    assert schedule.progress(EVENING_STEP, RETINOL_RAMP, dt.date(2027, 4, 28), start=start) == (
        "Week 3 of 4: every other evening; every evening from 12 May"
    )
    assert schedule.progress(EVENING_STEP, RETINOL_RAMP, start, start=start).startswith(
        "Week 1 of 4: Mon, Thu evenings;"
    )
    assert schedule.progress(EVENING_STEP, RETINOL_RAMP, dt.date(2027, 5, 20), start=start) == (
        "Every evening since 12 May (ramp-up done)"
    )
    assert schedule.progress(EVENING_STEP, (), start, start=start) == ""
    assert schedule.progress(EVENING_STEP, (P(schedule.DAILY, days=10), P(schedule.DAILY)), start, start=start) == (
        "Day 1 of 10: every evening; every evening from 24 April"
    )


def test_it_insists_on_lengths_for_all_but_the_last_phase():
    assert schedule.phase_errors([14, 14, None]) == {}
    assert set(schedule.phase_errors([14, None, None])) == {1}
    assert set(schedule.phase_errors([14, 14])) == {1}
    assert set(schedule.phase_errors([0, None])) == {0}


# --- Plans, pages, reminders, handouts ----------------------------------------------


def _ramping_plan(patient, *, start, entered_backwards=False):
    plan = PlanFactory(patient=patient, steps=1, start_date=start)  # one daily morning step
    retinol = PlanStep.objects.create(
        plan=plan,
        slot=schedule.EVENING,
        order=5,
        product=Product.objects.create(name="Retinol Serum", category=Product.Category.RETINOID),
        instructions="Pea-sized amount",
    )
    phases = list(enumerate(RETINOL_RAMP))
    for order, phase in reversed(phases) if entered_backwards else phases:
        PlanPhase.objects.create(
            step=retinol,
            order=order,
            frequency=phase.frequency,
            interval_days=phase.interval_days,
            weekdays=phase.weekdays,
            days=phase.days,
        )
    return Plan.objects.get(pk=plan.pk), retinol


def test_it_makes_steps_due_by_their_phase(alice):
    plan, retinol = _ramping_plan(alice, start=dt.date(2027, 1, 25))
    assert retinol in plan.steps_due_on(dt.date(2027, 1, 28))[schedule.EVENING]  # Thursday, phase 1
    assert retinol not in plan.steps_due_on(dt.date(2027, 1, 29))[schedule.EVENING]  # Friday, phase 1
    assert retinol in plan.steps_due_on(dt.date(2027, 2, 23))[schedule.EVENING]  # nightly by then


def test_it_follows_the_phases_order_not_the_order_they_were_entered(alice):
    plan, retinol = _ramping_plan(alice, start=dt.date(2027, 1, 25), entered_backwards=True)
    thursday, friday = dt.date(2027, 1, 28), dt.date(2027, 1, 29)  # phase 1: Mon and Thu only
    # Read fresh, as the today page reads it, and as the reminder worker reads a batch.
    for loaded in (plan, Plan.objects.current_for(alice, thursday), Plan.objects.with_schedule().get(pk=plan.pk)):
        assert retinol in loaded.steps_due_on(thursday)[schedule.EVENING]
        assert retinol not in loaded.steps_due_on(friday)[schedule.EVENING]


def test_it_copies_phases_when_assigning_a_routine(alice, derm):
    template = RoutineTemplateFactory()
    step = template.steps.get(product__name="Retinol Serum")
    TemplatePhase.objects.create(
        step=step, order=1, frequency=schedule.EVERY_N_DAYS, interval_days=4, offset_days=1, days=14
    )
    TemplatePhase.objects.create(step=step, order=2, frequency=schedule.EVERY_N_DAYS, interval_days=2, offset_days=1)
    plan = assign_routine(patient=alice, template=template, start_date=TODAY, assigned_by=derm)
    copied = plan.steps.get(product__name="Retinol Serum")
    assert copied.phase_values() == step.phase_values() and len(copied.phase_values()) == 2
    assert not plan.steps.get(product__name="Glycolic Serum").phases.exists()
    PlanPhase.objects.filter(step=copied).update(days=7)  # the plan's own copy
    assert step.phases.first().days == 14


def test_it_tells_the_patient_where_they_are_in_the_ramp(alice_client, alice, frozen):
    _ramping_plan(alice, start=TODAY - dt.timedelta(14))  # week 3 of 4
    html = alice_client.get("/plan/").content.decode()
    assert "Mon, Thu evenings for 2 weeks, then every other evening for 2 weeks, then every evening" in html
    assert "Week 3 of 4: every other evening; every evening from 24 March" in html
    assert "Week 3 of 4" in alice_client.get("/").content.decode()  # due today (day 14, every other evening)


def test_it_reminds_only_on_evenings_the_phase_makes_due(alice):
    plan, _ = _ramping_plan(alice, start=dt.date(2027, 1, 25))
    start = dt.datetime(2027, 1, 25, 5, 0, tzinfo=dt.UTC)
    rows = list(planning.reminders_for_plan(plan, start=start, end=start + dt.timedelta(days=11)))
    evenings = sorted(r.local_date for r in rows if r.slot == schedule.EVENING)
    assert evenings == [dt.date(2027, 1, 25), dt.date(2027, 1, 28), dt.date(2027, 2, 1), dt.date(2027, 2, 4)]
    assert Reminder.objects.count() == 0  # planning builds rows; saving them is the worker's job


def test_it_prints_the_ramp_on_the_tick_sheet(alice_client, alice, frozen):
    _, retinol = _ramping_plan(alice, start=TODAY)  # Wednesday 10 March
    response = alice_client.get("/plan/print/")
    rows = response.context["grid_rows"]
    cells = next(row.cells for row in rows if row.step.pk == retinol.pk)
    days = response.context["grid_days"]
    assert [d.strftime("%a") for d, due in zip(days, cells, strict=True) if due] == ["Thu", "Mon", "Thu", "Mon"]


def test_it_uses_as_many_queries_for_a_ramping_plan_as_for_a_plain_one(client, alice, bob, frozen):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    PlanFactory(patient=alice, steps=2)
    _ramping_plan(bob, start=TODAY - dt.timedelta(14))
    counts = []
    for patient in (alice, bob):
        client.force_login(patient.user)
        for url in ("/", "/plan/"):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            counts.append(len(ctx.captured_queries))
    assert counts[:2] == counts[2:]


# --- The admin -------------------------------------------------------------------


def test_it_edits_phases_on_the_steps_page_and_bumps_the_plan_version(derm_client, alice, frozen):
    plan = PlanFactory(patient=alice, steps=2)
    step = plan.steps.get(slot=schedule.EVENING)
    page = derm_client.get(f"/admin/routines/plan/{plan.pk}/change/").content.decode()
    assert "Add ramp-up phases" in page and f"/admin/routines/planstep/{step.pk}/change/" in page
    url = f"/admin/routines/planstep/{step.pk}/change/"
    response = derm_client.post(url, phase_post(step, RETINOL_RAMP))
    assert response.status_code == 302 and response.url == f"/admin/routines/plan/{plan.pk}/change/"
    assert step.phase_values() == RETINOL_RAMP
    plan.refresh_from_db()
    assert plan.version == 2
    page = derm_client.get(f"/admin/routines/plan/{plan.pk}/change/").content.decode()
    assert "Mon, Thu evenings for 2 weeks" in page and "Edit ramp-up phases" in page


@pytest.mark.parametrize(
    "phases",
    [
        (P(schedule.DAILY, days=14), P(schedule.DAILY, days=14)),  # the last phase must be open-ended
        (P(schedule.DAILY), P(schedule.DAILY)),  # only the last may be open-ended
        (P(schedule.EVERY_N_DAYS, interval_days=2, offset_days=2, days=7), P(schedule.DAILY)),  # impossible offset
        (P(schedule.WEEKDAYS, weekdays="", days=7), P(schedule.DAILY)),  # weekly with no weekday
    ],
)
def test_it_refuses_phases_that_make_no_ramp(derm_client, alice, phases, frozen):
    plan = PlanFactory(patient=alice, steps=2)
    step = plan.steps.get(slot=schedule.EVENING)
    response = derm_client.post(f"/admin/routines/planstep/{step.pk}/change/", phase_post(step, phases))
    assert response.status_code == 200
    assert b"errorlist" in response.content
    assert not step.phases.exists()
    assert Plan.objects.get(pk=plan.pk).version == 1


def test_it_keeps_front_desk_out_of_phase_edits(desk_client, alice, frozen):
    plan = PlanFactory(patient=alice, steps=2)
    step = plan.steps.get(slot=schedule.EVENING)
    url = f"/admin/routines/planstep/{step.pk}/change/"
    assert desk_client.get(url).status_code == 200  # may look
    assert desk_client.post(url, phase_post(step, RETINOL_RAMP)).status_code == 403
    assert not step.phases.exists()
