"""Procedure holds: steps pause around a booked procedure, everywhere at once."""

import datetime as dt
import io
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from portal.models import AccessLog, Patient
from reminders import planning, sending
from reminders.models import Reminder, ReplanRequest
from routines import schedule
from routines.models import Plan, Procedure, ProcedureType, Product
from routines.services import assign_routine
from tests.factories import (
    TODAY,
    PatientFactory,
    PlanFactory,
    ProcedureFactory,
    ProcedureTypeFactory,
    RoutineTemplateFactory,
)

DAY = dt.timedelta(days=1)


pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def peel(db):
    return ProcedureTypeFactory(
        name="Chemical peel",
        stops_categories="retinoid",
        stops_ingredients="glycolic acid",
        days_before=7,
        days_after=3,
    )


@pytest.fixture
def milia_plan(alice, derm):
    """Milia care from TODAY (Wed 10 March 2027): glycolic on even days, retinol on odd days."""
    template = RoutineTemplateFactory()
    template.steps.filter(product__name="Glycolic Serum").update(caution="")
    Product.objects.filter(name="Glycolic Serum").update(key_ingredients="glycolic acid")
    return assign_routine(patient=alice, template=template, start_date=TODAY, assigned_by=derm)


def _fresh(plan):
    return Plan.objects.with_steps().get(pk=plan.pk)


def _titles(plan, day, slot=schedule.EVENING):
    return [s.title for s in _fresh(plan).steps_due_on(day)[slot]]


# --- The pure function -------------------------------------------------------------

schedules = st.builds(
    SimpleNamespace,
    slot=st.just(schedule.EVENING),
    frequency=st.sampled_from([schedule.DAILY, schedule.EVERY_N_DAYS, schedule.WEEKDAYS]),
    interval_days=st.integers(1, 4).map(lambda n: n),
    offset_days=st.just(0),
    weekdays=st.just("0246"),
)


@given(
    step=schedules,
    start=st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 1, 1)),
    on=st.integers(-20, 60),
    before=st.integers(0, 14),
    after=st.integers(1, 14),
    shift=st.integers(-30, 30),
)
def test_it_never_makes_a_held_step_due_and_moves_the_hold_with_the_date(step, start, on, before, after, shift):
    kind = ProcedureType(name="Peel", days_before=before, days_after=after)
    hold = kind.hold_for(start + dt.timedelta(on))
    moved = kind.hold_for(start + dt.timedelta(on + shift))
    assert hold.first == hold.on - dt.timedelta(before) and hold.resume_on == hold.on + dt.timedelta(after)
    for n in range(-5, 90):
        day = start + dt.timedelta(n)
        free = schedule.is_due(step, day, start=start, end=None)
        held = schedule.is_due(step, day, start=start, end=None, holds=[hold])
        assert held == (free and not hold.covers(day))  # held dates are never due; others are untouched
        assert hold.covers(day) == moved.covers(day + dt.timedelta(shift))


def test_it_explains_the_pause_in_the_patients_words():
    hold = ProcedureType(name="Chemical peel", days_before=7, days_after=3).hold_for(dt.date(2027, 5, 12))
    assert hold.reason(dt.date(2027, 5, 8)) == "Paused before your chemical peel on 12 May"
    assert hold.reason(dt.date(2027, 5, 12)) == "Paused for your chemical peel today"
    assert hold.reason(dt.date(2027, 5, 13)) == "Paused after your chemical peel on 12 May"
    assert hold.summary() == "Paused 5–14 May for your chemical peel on 12 May; restart on 15 May"


# --- Plans: pages, reminders, handouts --------------------------------------------


def test_it_pauses_only_matching_steps_around_the_procedure(alice, milia_plan, peel):
    ProcedureFactory(patient=alice, type=peel, date=TODAY + 10 * DAY)  # Sat 20 March
    assert _titles(milia_plan, TODAY + 2 * DAY) == ["Glycolic Serum"]  # 12 March: before the hold
    for n in range(3, 13):  # 13 to 22 March: paused
        assert _titles(milia_plan, TODAY + n * DAY) == [], n
    assert _titles(milia_plan, TODAY + 13 * DAY) == ["Retinol Serum"]  # 23 March: restart
    assert len(_fresh(milia_plan).steps_due_on(TODAY + 5 * DAY)[schedule.MORNING]) == 2  # cleanser and SPF go on


def test_it_moves_the_pause_when_the_procedure_moves(derm_client, alice, milia_plan, peel):
    procedure = ProcedureFactory(patient=alice, type=peel, date=TODAY + 10 * DAY)
    assert _titles(milia_plan, TODAY + 3 * DAY) == []
    response = derm_client.post(
        f"/admin/routines/procedure/{procedure.pk}/change/",
        {"patient": alice.pk, "type": peel.pk, "date": (TODAY + 20 * DAY).isoformat(), "note": ""},
    )
    assert response.status_code == 302
    assert _titles(milia_plan, TODAY + 3 * DAY) == ["Retinol Serum"]
    assert _titles(milia_plan, TODAY + 14 * DAY) == []  # 24 March, inside the new pause
    assert AccessLog.objects.filter(patient=alice, what__startswith="Moved Chemical peel").exists()


def test_it_tells_the_patient_why_on_the_today_and_plan_pages(alice_client, alice, milia_plan, peel):
    ProcedureFactory(patient=alice, type=peel, date=TODAY + 3 * DAY)  # Sat 13 March
    html = alice_client.get("/").content.decode()
    assert "Paused today" in html
    assert "Paused before your chemical peel on 13 March" in html and "Restart on 16 March" in html
    assert "Glycolic Serum" in html.split("Paused today")[1].split("</section>")[0]
    assert "0 of 2" in html  # cleanser and SPF; the paused glycolic serum is not due
    plan_html = alice_client.get("/plan/").content.decode()
    assert "Paused 6–15 March for your chemical peel on 13 March; restart on 16 March" in plan_html


def test_it_warns_a_week_ahead(alice_client, alice, milia_plan, peel):
    ProcedureFactory(patient=alice, type=peel, date=TODAY + 12 * DAY)  # pause starts in 5 days
    html = alice_client.get("/").content.decode()
    assert "Coming up: a pause" in html and "for your chemical peel on 22 March" in html


def test_it_leaves_held_days_blank_on_the_tick_sheet(alice_client, alice, milia_plan, peel):
    ProcedureFactory(patient=alice, type=peel, date=TODAY + 10 * DAY)
    response = alice_client.get("/plan/print/")
    days = response.context["grid_days"]
    for row in response.context["grid_rows"]:
        due = dict(zip(days, row.cells, strict=True))
        if row.step.title in ("Glycolic Serum", "Retinol Serum"):
            assert not any(due[TODAY + n * DAY] for n in range(3, 13)), row.step.title
        else:
            assert all(due.values()), row.step.title
    assert b"Paused 13" in response.content


def test_it_plans_no_reminder_for_a_slot_with_every_step_held(alice, peel):
    plan = PlanFactory(patient=alice, steps=2)  # one morning and one evening step, both daily
    evening = plan.steps.get(slot=schedule.EVENING)
    evening.product.category = "retinoid"
    evening.product.save()
    ProcedureFactory(patient=alice, type=peel, date=TODAY + 2 * DAY)
    start = dt.datetime(2027, 3, 10, 5, tzinfo=dt.UTC)
    rows = list(planning.reminders_for_plan(_fresh(plan), start=start, end=start + 14 * DAY))
    evenings = {r.local_date for r in rows if r.slot == schedule.EVENING}
    mornings = {r.local_date for r in rows if r.slot == schedule.MORNING}
    held = {TODAY + n * DAY for n in range(-5, 5)}
    assert not evenings & held and evenings and len(mornings) == 14


def test_it_skips_a_reminder_planned_before_the_procedure_was_booked(alice, peel, mailoutbox):
    plan = PlanFactory(patient=alice, steps=2)
    plan.steps.filter(slot=schedule.EVENING).update(instructions="Retinol")
    evening = plan.steps.get(slot=schedule.EVENING)
    evening.product.category = "retinoid"
    evening.product.save()
    now = dt.datetime(2027, 3, 10, 17, tzinfo=dt.UTC)
    planning.plan_reminders(now=now)
    reminder = Reminder.objects.get(slot=schedule.EVENING, local_date=TODAY)
    ProcedureFactory(patient=alice, type=peel, date=TODAY + 5 * DAY)
    sending.send_due(now=reminder.due_at)
    reminder.refresh_from_db()
    assert reminder.status == Reminder.Status.SKIPPED and "No steps are due" in reminder.skip_reason
    assert mailoutbox == []


def _queries(client, url) -> int:
    """How many queries one page of the logged-in patient makes."""
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_it_uses_as_many_queries_with_procedures_for_30_steps_as_for_3(client, peel):
    counts = {}
    for steps in (3, 30):
        plan = PlanFactory(patient=PatientFactory(), steps=steps)
        Product.objects.filter(pk__in=plan.steps.values("product")).update(category="retinoid")
        ProcedureFactory(patient=plan.patient, type=peel, date=TODAY + 2 * DAY)
        client.force_login(plan.patient.user)
        counts[steps] = [_queries(client, url) for url in ("/", "/plan/")]
    assert counts[3] == counts[30]


# --- Staff ---------------------------------------------------------------------


def test_it_lets_the_front_desk_book_a_procedure_but_not_change_its_rules(desk_client, alice, peel):
    page = desk_client.get(f"/admin/portal/patient/{alice.pk}/change/").content.decode()
    assert f"/admin/routines/procedure/add/?patient={alice.pk}" in page and "Book a procedure" in page
    response = desk_client.post(
        "/admin/routines/procedure/add/", {"patient": alice.pk, "type": peel.pk, "date": "2027-03-20", "note": ""}
    )
    assert response.status_code == 302
    procedure = Procedure.objects.get()
    assert procedure.created_by.username == "frank"
    page = desk_client.get(f"/admin/portal/patient/{alice.pk}/change/").content.decode()
    assert "Chemical peel on 2027-03-20" in page and "Paused 13–22 March" in page
    assert desk_client.post(f"/admin/routines/proceduretype/{peel.pk}/change/", {}).status_code == 403


def test_it_refuses_a_procedure_type_that_pauses_nothing(derm_client):
    response = derm_client.post(
        "/admin/routines/proceduretype/add/", {"name": "Facial", "days_before": 1, "days_after": 1}
    )
    assert response.status_code == 200 and "Choose at least one category or ingredient" in response.content.decode()
    response = derm_client.post(
        "/admin/routines/proceduretype/add/",
        {"name": "Laser", "stops_categories": ["retinoid", "exfoliator"], "days_before": 14, "days_after": 7},
    )
    assert response.status_code == 302
    assert ProcedureType.objects.get().category_list == ["retinoid", "exfoliator"]


def test_it_shows_which_steps_a_procedure_pauses(derm_client, alice, milia_plan, peel):
    procedure = ProcedureFactory(patient=alice, type=peel, date=TODAY + 10 * DAY)
    html = derm_client.get(f"/admin/routines/procedure/{procedure.pk}/change/").content.decode()
    assert "Glycolic Serum, Retinol Serum" in html and "2027-03-13 to 2027-03-22" in html
    # The page reads the patient's plan, so it is an access like any other.
    assert AccessLog.objects.filter(patient=alice, action=AccessLog.VIEW, what__startswith="Admin procedure").exists()


def test_it_seeds_a_peel_for_the_second_demo_patient(db, client):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    patient = Patient.objects.get(user__username="demo-patient2")
    procedure = Procedure.objects.get(patient=patient)
    assert procedure.type.name == "Chemical peel" and procedure.date == patient.local_today() + 4 * DAY
    client.force_login(patient.user)
    html = client.get("/").content.decode()
    assert "Paused before your chemical peel" in html
    plan = Plan.objects.with_steps().get(patient=patient)
    due = plan.steps_due_on(patient.local_today())
    assert due[schedule.MORNING] and due[schedule.EVENING]
    assert "Youth Renewal Retinol Serum" not in [s.title for s in due[schedule.EVENING]]


def test_it_answers_without_queries_for_a_prefetched_batch(alice, bob, peel, django_assert_num_queries):
    for patient in (alice, bob):
        plan = PlanFactory(patient=patient, steps=4)
        Product.objects.filter(pk=plan.steps.order_by("order").first().product_id).update(category="retinoid")
        ProcedureFactory(patient=patient, type=peel, date=TODAY + 2 * DAY)
        planning.plan_reminders(now=dt.datetime(2027, 3, 10, 12, tzinfo=dt.UTC))
    plans = list(Plan.objects.with_schedule())
    batch = list(Reminder.objects.select_related("plan").prefetch_related(*Plan.schedule_prefetches("plan__")))
    assert batch
    with django_assert_num_queries(0):
        for plan in plans:
            for n in range(30):
                plan.steps_due_on(TODAY + n * DAY)
        for reminder in batch:
            reminder.plan.steps_due_on(reminder.local_date)
    held = next(step for step in plans[0].steps.all() if step.product.category == "retinoid")
    assert not any(held in plans[0].steps_due_on(TODAY + n * DAY)[schedule.MORNING] for n in range(5))
    assert held in plans[0].steps_due_on(TODAY + 5 * DAY)[schedule.MORNING]


def test_planning_reads_products_only_for_patients_with_a_procedure_and_honours_their_holds(
    alice, bob, peel, django_assert_max_num_queries
):
    for patient in (alice, bob):
        evening = PlanFactory(patient=patient, steps=2).steps.get(slot=schedule.EVENING)
        Product.objects.filter(pk=evening.product_id).update(category="retinoid")
    ProcedureFactory(patient=alice, type=peel, date=TODAY + DAY)  # alice's retinol evenings around it are held
    ReplanRequest.objects.all().delete()
    # The requests, the plans, steps, phases, procedures, flags, alice's products, the insert, the requests' delete.
    with django_assert_max_num_queries(9):
        planning.plan_reminders(now=dt.datetime(2027, 3, 10, 12, tzinfo=dt.UTC))  # 07:00 on TODAY in New York
    evenings = set(Reminder.objects.filter(slot=schedule.EVENING, local_date=TODAY).values_list("patient", flat=True))
    assert evenings == {bob.pk}
    assert Reminder.objects.filter(patient=alice, slot=schedule.MORNING, local_date=TODAY).exists()
