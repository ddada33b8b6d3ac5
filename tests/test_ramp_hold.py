"""Ramp-ups listen to the skin: an open irritation flag holds a ramping step at its phase; review resumes it.

The pure rule first (`schedule.Freeze`, property tests over dates), then the same
held ramp seen by the patient (today page, /plan/), reminder planning and sending,
the calendar feed and adherence, all through `Plan.timetable()`.
"""

import datetime as dt

import icalendar
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from portal.models import Patient
from reminders import planning, sending
from reminders.models import Reminder
from routines import adherence, schedule
from routines.models import IrritationFlag, Plan, Product, SkinCheckIn
from tests.factories import (
    NOON_UTC,
    TODAY,
    IrritationFlagFactory,
    PlanFactory,
    PlanPhaseFactory,
    PlanStepFactory,
    ProcedureFactory,
    ProcedureTypeFactory,
    ProductFactory,
    SkinCheckInFactory,
    StepCheckFactory,
)

P = schedule.Phase
DAY = dt.timedelta(days=1)
# Retinol, gently: every 4 evenings for 2 weeks, every other evening for 2 weeks, then nightly.
RETINOL_RAMP = (
    P(schedule.EVERY_N_DAYS, interval_days=4, days=14),
    P(schedule.EVERY_N_DAYS, interval_days=2, days=14),
    P(schedule.DAILY),
)
EVENING = schedule.EVENING
NOON_UTC_DT = dt.datetime.fromisoformat(NOON_UTC)

dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31))
phase_values = st.builds(
    P,
    frequency=st.sampled_from([schedule.DAILY, schedule.EVERY_N_DAYS, schedule.WEEKDAYS]),
    interval_days=st.integers(2, 5),
    offset_days=st.just(1),
    weekdays=st.sampled_from(["0", "035", "0123456"]),
    days=st.integers(1, 30),
)
ramps = st.lists(phase_values, min_size=1, max_size=5).map(lambda ps: (*ps[:-1], P(ps[-1].frequency, days=None)))


class Rule:
    """A phase read as a step's own rule (what `is_due` follows without phases)."""

    def __init__(self, phase: schedule.Phase, slot: str = EVENING):
        self.slot, self.frequency, self.interval_days = slot, phase.frequency, phase.interval_days
        self.offset_days, self.weekdays = phase.offset_days, phase.weekdays


STEP = Rule(P(schedule.AS_NEEDED))  # a step whose phases decide


def due(ramp, day, *, start, freezes=()):
    return schedule.is_due(STEP, day, start=start, end=None, phases=ramp, freezes=freezes)


# --- The rule ---------------------------------------------------------------------


@given(ramp=ramps, start=dates, raised=st.integers(-20, 120), held=st.one_of(st.none(), st.integers(1, 60)))
def test_it_never_moves_on_to_another_phase_during_a_hold(ramp, start, raised, held):
    raised_on = start + raised * DAY
    freeze = schedule.Freeze(raised_on, None if held is None else raised_on + (held - 1) * DAY)
    when_raised = schedule.phase_on(ramp, max(raised_on, start), start=start)
    for n in range(held or 60):
        day = max(raised_on, start) + n * DAY
        if freeze.last is not None and day > freeze.last:
            break
        span = schedule.phase_on(ramp, day, start=start, freezes=[freeze])
        # The phase it was in when the flag opened, and that phase's own rhythm from its own first day.
        assert span.index == when_raised.index and span.first == when_raised.first
        assert due(ramp, day, start=start, freezes=[freeze]) == schedule.is_due(
            Rule(span.phase), day, start=span.first, end=None
        )


@given(ramp=ramps, start=dates, raised=st.integers(-20, 120), held=st.integers(1, 60))
def test_it_moves_the_later_phases_by_the_days_held_and_keeps_their_lengths(ramp, start, raised, held):
    raised_on = start + raised * DAY
    freeze = schedule.Freeze(raised_on, raised_on + (held - 1) * DAY)
    shift = max(0, (freeze.last - max(raised_on, start)).days + 1)  # days held once the plan runs
    before = schedule.phase_spans(ramp, start=start)
    after = schedule.phase_spans(ramp, start=start, freezes=[freeze])
    assert len(after) == len(before)
    held_index = schedule.phase_on(ramp, max(raised_on, start), start=start).index
    for old, new in zip(before, after, strict=True):
        moved = dt.timedelta(days=shift if old.index > held_index else 0)
        longer = dt.timedelta(days=shift if old.index >= held_index else 0)
        assert new.first == old.first + moved
        assert new.last == (None if old.last is None else old.last + longer)


@given(ramp=ramps, start=dates, raised=st.integers(0, 120))
def test_an_open_flag_stops_the_ramp_at_its_phase_for_good(ramp, start, raised):
    raised_on = start + raised * DAY
    spans = schedule.phase_spans(ramp, start=start, freezes=[schedule.Freeze(raised_on)])
    phase = schedule.phase_on(ramp, raised_on, start=start)
    assert spans[-1].index == phase.index and spans[-1].last is None
    assert (
        schedule.phase_on(ramp, raised_on + 3650 * DAY, start=start, freezes=[schedule.Freeze(raised_on)])
        == (spans[-1])
    )


@given(rule=phase_values, start=dates, raised=st.integers(-5, 60), offset=st.integers(0, 90))
def test_it_leaves_a_step_without_phases_alone(rule, start, raised, offset):
    step, day = Rule(rule), start + offset * DAY
    freeze = schedule.Freeze(start + raised * DAY)
    assert schedule.is_due(step, day, start=start, end=None, freezes=[freeze]) == schedule.is_due(
        step, day, start=start, end=None
    )


def test_each_of_several_flags_holds():
    start = dt.date(2027, 1, 4)
    first_flag = schedule.Freeze(start + 3 * DAY, start + 5 * DAY)  # 3 days held in phase 1
    second_flag = schedule.Freeze(start + 20 * DAY, start + 23 * DAY)  # 4 days in the second phase (begun 3 days late)
    spans = schedule.phase_spans(RETINOL_RAMP, start=start, freezes=[second_flag, first_flag])
    assert [(s.first - start).days for s in spans] == [0, 14 + 3, 28 + 3 + 4]
    still_open = schedule.Freeze(start + 30 * DAY)  # the third one is not reviewed yet
    spans = schedule.phase_spans(RETINOL_RAMP, start=start, freezes=[first_flag, still_open, second_flag])
    assert [(s.first - start).days for s in spans] == [0, 17] and spans[-1].last is None


def test_it_merges_overlapping_and_touching_freezes():
    a, b = dt.date(2027, 1, 1), dt.date(2027, 1, 10)
    assert schedule.merged([schedule.Freeze(b, b + DAY), schedule.Freeze(a, b - DAY)]) == [schedule.Freeze(a, b + DAY)]
    assert schedule.merged([schedule.Freeze(a, b), schedule.Freeze(a + DAY)]) == [schedule.Freeze(a)]


def test_it_says_the_ramp_waits_and_then_where_it_resumes():
    start = dt.date(2027, 3, 1)
    words = schedule.progress(STEP, RETINOL_RAMP, start + 12 * DAY, start=start, freezes=[schedule.Freeze(start + DAY)])
    assert words == "Staying at every 4 days (evening) until your skin settles"
    assert schedule.describe(STEP, RETINOL_RAMP, start=start, freezes=[schedule.Freeze(start + 20 * DAY)]) == (
        "Every other evening until your skin settles, then every evening"
    )
    reviewed = [schedule.Freeze(start + DAY, start + 7 * DAY)]  # a week held
    assert schedule.progress(STEP, RETINOL_RAMP, start + 12 * DAY, start=start, freezes=reviewed) == (
        "Week 1 of 4: every 4 days (evening); every other evening from 22 March"
    )
    assert schedule.progress(STEP, RETINOL_RAMP, start + 14 * DAY, start=start, freezes=reviewed) == (
        "Week 2 of 4: every 4 days (evening); every other evening from 22 March"
    )
    # In the last phase a flag changes nothing: the ramp-up is done.
    late = [schedule.Freeze(start + 40 * DAY)]
    assert schedule.progress(STEP, RETINOL_RAMP, start + 45 * DAY, start=start, freezes=late) == (
        "Every evening since 29 March (ramp-up done)"
    )
    assert schedule.describe(STEP, RETINOL_RAMP, start=start, freezes=late) == schedule.describe(STEP, RETINOL_RAMP)


# --- Through the portal -------------------------------------------------------------

START = TODAY - 12 * DAY  # retinol due today (day 12, every 4 days); unheld, every other evening from TODAY + 2
RAISED = TODAY - 2 * DAY


def ramping_plan(patient: Patient, *, start: dt.date = START) -> tuple[Plan, object]:
    """A plan with a daily morning cleanser and an evening retinol ramping up as `RETINOL_RAMP`."""
    plan = PlanFactory(patient=patient, start_date=start, steps=[{"slot": schedule.MORNING, "instructions": "Cleanse"}])
    retinol = PlanStepFactory(
        plan=plan,
        slot=EVENING,
        order=5,
        product=ProductFactory(name="Retinol Serum", brand=patient.chart_number, category=Product.Category.RETINOID),
        instructions="Pea-sized amount",
    )
    for order, phase in enumerate(RETINOL_RAMP):
        PlanPhaseFactory(
            step=retinol, order=order, frequency=phase.frequency, interval_days=phase.interval_days, days=phase.days
        )
    return plan, retinol


def evenings(plan: Plan, days: int = 10) -> list[int]:
    """Which of the next `days` days (0 = TODAY) the plan has an evening step due, as the reminder worker reads it."""
    loaded = Plan.objects.select_related("patient").with_schedule().get(pk=plan.pk)
    return [n for n in range(days) if loaded.steps_due_on(TODAY + n * DAY)[EVENING]]


def review(flag: IrritationFlag, at: dt.datetime) -> None:
    IrritationFlag.objects.filter(pk=flag.pk).update(reviewed_at=at)


@pytest.fixture
def held(alice, bob):
    """Alice's retinol held by an open flag raised two days ago; bob has the same plan and no flag."""
    plan, retinol = ramping_plan(alice)
    ramping_plan(bob)
    flag = IrritationFlagFactory(patient=alice, raised_on=RAISED)
    return plan, retinol, flag


@pytest.fixture
def held_client(held, client, frozen):
    """Alice's client, with her ramp held (`held`)."""
    client.force_login(held[0].patient.user)
    return client


def test_it_holds_the_ramp_for_every_reader_of_the_timetable(held, bob):
    plan, retinol, _ = held
    assert evenings(plan) == [0, 4, 8]  # every 4 days, still
    assert evenings(Plan.objects.get(patient=bob)) == [0, 2, 4, 6, 8]  # bob moves on; alice's flag is not his
    for loaded in (Plan.objects.current_for(plan.patient, TODAY), Plan.objects.get(pk=plan.pk)):
        assert [n for n in range(10) if retinol in loaded.steps_due_on(TODAY + n * DAY)[EVENING]] == [0, 4, 8]
    # The morning step, without phases, keeps its frequency.
    assert all(plan.steps_due_on(TODAY + n * DAY)[schedule.MORNING] for n in range(10))


def test_the_patient_sees_the_hold_on_the_today_page_and_the_plan(held_client):
    today = held_client.get("/")
    assert "Staying at every 4 days (evening) until your skin settles" in today.content.decode()
    week = {glance.day: {str(label): names for label, names in glance.slots} for glance in today.context["page"].week}
    assert "Retinol Serum" not in week[TODAY + 2 * DAY].get("Evening", "")
    assert "Retinol Serum" in week[TODAY + 4 * DAY]["Evening"]
    page = held_client.get("/plan/").content.decode()
    assert "Every 4 days (evening) until your skin settles, then every other evening for 2 weeks" in page
    assert "Staying at every 4 days (evening) until your skin settles" in page


def test_the_print_page_and_its_tick_sheet_show_the_hold(held, held_client):
    retinol = held[1]
    response = held_client.get("/plan/print/")
    assert "until your skin settles" in response.content.decode()
    cells = next(row.cells for row in response.context["grid_rows"] if row.step.pk == retinol.pk)
    days = response.context["grid_days"]
    assert [(d - TODAY).days for d, is_due in zip(days, cells, strict=True) if is_due][:3] == [0, 4, 8]


def test_two_sore_days_hold_the_ramp_and_the_dermatologists_review_resumes_it(alice, bob, client, derm, frozen):
    ramping_plan(alice)
    ramping_plan(bob)
    SkinCheckInFactory(patient=alice, local_date=TODAY - DAY, feeling=SkinCheckIn.Feeling.RED_AND_SORE)
    client.force_login(alice.user)
    page = client.post("/skin/", {"feeling": SkinCheckIn.Feeling.RED_AND_SORE}, follow=True).content.decode()
    assert "we have let your dermatologist know" in page
    assert "Staying at every 4 days (evening) until your skin settles" in page
    flag = IrritationFlag.objects.get(patient=alice)
    frozen.move_to(NOON_UTC_DT + 3 * DAY)  # three days later the dermatologist has looked at it
    staff = Client()
    staff.force_login(derm)
    response = staff.post("/admin/routines/irritationflag/", {"action": "mark_reviewed", "_selected_action": [flag.pk]})
    assert response.status_code == 302 and IrritationFlag.objects.get(pk=flag.pk).reviewed_by == derm
    plan = Plan.objects.get(patient=alice)
    assert evenings(plan, 12) == [0, 4, 5, 7, 9, 11]  # 3 days held: every 4 days to TODAY + 4, then every other
    client.force_login(bob.user)
    assert "until your skin settles" not in client.get("/").content.decode()  # bob's ramp never waited


def test_reminder_planning_sends_no_evening_reminder_on_a_held_evening(held, bob):
    plan, _, _ = held
    now = dt.datetime(2027, 3, 12, 17, 0, tzinfo=dt.UTC)  # noon on TODAY + 2 in New York
    planning.plan_reminders(now=now)
    alice_evenings = set(Reminder.objects.filter(plan=plan, slot=EVENING).values_list("local_date", flat=True))
    bob_evenings = set(Reminder.objects.filter(patient=bob, slot=EVENING).values_list("local_date", flat=True))
    assert TODAY + 2 * DAY in bob_evenings and TODAY + 2 * DAY not in alice_evenings
    assert Reminder.objects.filter(plan=plan, slot=schedule.MORNING, local_date=TODAY + 3 * DAY).exists()


def test_a_reminder_planned_before_the_flag_is_skipped_not_sent(alice, mailoutbox):
    plan, _ = ramping_plan(alice)
    planning.plan_reminders(now=dt.datetime(2027, 3, 11, 17, 0, tzinfo=dt.UTC))  # noon on TODAY + 1
    planned = Reminder.objects.get(plan=plan, slot=EVENING, local_date=TODAY + 2 * DAY)  # every other evening
    IrritationFlagFactory(patient=alice, raised_on=TODAY + DAY)  # still every 4 days, and now it stays so
    sending.send_due(now=planned.due_at)
    planned.refresh_from_db()
    assert planned.status == Reminder.Status.SKIPPED and "No steps are due" in planned.skip_reason
    assert all("Retinol" not in message.body for message in mailoutbox)


def test_the_calendar_feed_says_the_ramp_waits(held, client, bob):
    plan, _, _ = held
    for patient, expected in ((plan.patient, True), (bob, False)):
        cal = icalendar.Calendar.from_ical(client.get(f"/reminders/calendar/{patient.calendar_token}.ics").content)
        evening = next(e for e in cal.walk("VEVENT") if "Evening" in str(e["summary"]))
        description = str(evening["description"])
        assert "Retinol Serum (every 4 days (evening)" in description
        assert ("until your skin settles" in description) is expected


def test_adherence_counts_only_the_held_evenings_as_due(alice, bob):
    for patient in (alice, bob):
        _, retinol = ramping_plan(patient, start=TODAY - 21 * DAY)  # every other evening from TODAY - 7 unheld
        for n in (5, 1):  # the evenings every 4 days fell on in the last week (days 16 and 20)
            StepCheckFactory(step=retinol, local_date=TODAY - n * DAY)
    IrritationFlagFactory(patient=alice, raised_on=TODAY - 10 * DAY)
    patients = Patient.objects.filter(pk__in=[alice.pk, bob.pk]).prefetch_related(adherence.prefetch_plans(TODAY))
    evening = {}
    for patient in patients:
        plans = patient.adherence_plans
        week = adherence.adherence(plans, today=TODAY, days=7)
        evening[patient.pk] = week.due - 7  # the morning cleanser is due every day, never ticked
    assert evening == {alice.pk: 2, bob.pk: 4}  # alice's two evenings were all that was due; bob missed two


def test_review_resumes_from_the_held_phase_with_the_later_phases_moved(held, client, frozen):
    plan, retinol, flag = held
    # 22:00 in New York on TODAY is already tomorrow in UTC: the patient's own date counts.
    review(flag, dt.datetime(2027, 3, 11, 3, 0, tzinfo=dt.UTC))
    assert evenings(plan, 12) == [0, 4, 6, 8, 10]  # every other evening from TODAY + 4, two days late
    fresh = Plan.objects.get(pk=plan.pk).steps.get(pk=retinol.pk)
    assert fresh.progress_on(TODAY) == "Week 2 of 4: every 4 days (evening); every other evening from 14 March"
    assert "until your skin settles" not in fresh.frequency_text
    client.force_login(plan.patient.user)
    assert "Week 2 of 4: every 4 days (evening); every other evening from 14 March" in client.get("/").content.decode()


def test_a_second_flag_holds_again_after_the_first_was_reviewed(held):
    plan, retinol, flag = held
    review(flag, timezone.make_aware(dt.datetime(2027, 3, 10, 12, 0), plan.patient.tz))  # held RAISED..TODAY - 1
    IrritationFlagFactory(patient=plan.patient, raised_on=TODAY + 4 * DAY)  # on the second phase's first day
    assert evenings(plan, 14) == [0, 4, 6, 8, 10, 12]  # every other evening from TODAY + 4, and it stays so
    later = Plan.objects.get(pk=plan.pk).steps.get(pk=retinol.pk)
    assert later.progress_on(TODAY + 30 * DAY) == "Staying at every other evening until your skin settles"


def test_a_flag_reviewed_the_day_it_was_raised_holds_nothing(alice, bob):
    plan, _ = ramping_plan(alice)
    flag = IrritationFlagFactory(patient=alice, raised_on=TODAY)
    review(flag, dt.datetime(2027, 3, 10, 20, 0, tzinfo=dt.UTC))
    assert flag.freeze is not None and IrritationFlag.objects.get(pk=flag.pk).freeze is None
    assert evenings(plan) == evenings(ramping_plan(bob)[0]) == [0, 2, 4, 6, 8]


def test_procedure_holds_still_apply_on_top(held):
    plan, retinol, _ = held
    peel = ProcedureTypeFactory(name="chemical peel", stops_categories="retinoid", days_before=1, days_after=1)
    ProcedureFactory(patient=plan.patient, type=peel, date=TODAY + 4 * DAY)  # pauses TODAY + 3 and + 4
    assert evenings(plan) == [0, 8]


def test_it_reads_flags_without_queries_for_a_prefetched_batch(held, bob, django_assert_num_queries):
    plans = list(Plan.objects.select_related("patient").with_schedule())
    with django_assert_num_queries(0):
        for plan in plans:
            for n in range(30):
                plan.steps_due_on(TODAY + n * DAY)
            for step in plan.ordered_steps():
                step.progress_on(TODAY)
                assert step.frequency_text


@pytest.mark.usefixtures("frozen")
def test_the_today_page_reads_the_flags_in_one_query_however_many_steps(alice, bob, client):
    counts = {}
    for patient, steps in ((alice, 1), (bob, 8)):
        plan, _ = ramping_plan(patient)
        for n in range(steps):
            retinol = PlanStepFactory(plan=plan, slot=EVENING, order=10 + n)
            PlanPhaseFactory(step=retinol, order=0, frequency=schedule.EVERY_N_DAYS, interval_days=4, days=14)
            PlanPhaseFactory(step=retinol, order=1, frequency=schedule.DAILY)
        client.force_login(patient.user)
        without = len(_queries(client, "/"))
        IrritationFlagFactory(patient=patient, raised_on=RAISED)
        counts[patient.pk] = (without, len(_queries(client, "/")))
    assert counts[alice.pk] == counts[bob.pk]
    assert counts[alice.pk][1] == counts[alice.pk][0] + 1


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return ctx.captured_queries


@pytest.mark.usefixtures("frozen")
def test_a_spanish_patient_reads_the_hold_in_spanish(rosa, rosa_client):
    """Needs the Spanish catalogue merge (locale/es/pending/ramp-hold.po)."""
    ramping_plan(rosa)
    IrritationFlagFactory(patient=rosa, raised_on=RAISED)
    html = rosa_client.get("/").content.decode()
    assert "Por ahora sigue igual: cada 4 días (por la noche), hasta que su piel se calme" in html
