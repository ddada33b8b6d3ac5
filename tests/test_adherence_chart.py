"""The adherence chart on the patient's admin page: the same numbers as the adherence columns, holds,
check-ins and plan changes on the same days, an accessible SVG, only for dermatologists."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from routines import adherence, chart, schedule
from routines.models import IrritationFlag, Plan, PlanStep, ProcedureType
from tests.factories import (
    TODAY,
    PlanFactory,
    PlanPhaseFactory,
    ProcedureFactory,
    ProductFactory,
    SkinCheckInFactory,
    StepCheckFactory,
)

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def plan(alice):
    """Alice's plan from 40 days ago: one morning step and glycolic acid every other evening.

    Ticked every morning but those of the last week, and every glycolic evening before day 20.
    """
    plan = PlanFactory(
        patient=alice,
        start_date=TODAY - dt.timedelta(days=40),
        steps=[
            {"slot": schedule.MORNING, "instructions": "Gentle cleanser"},
            {
                "slot": schedule.EVENING,
                "product": ProductFactory(name="Glycolic Serum", key_ingredients="glycolic acid"),
                "instructions": "Thin layer",
                "frequency": schedule.EVERY_N_DAYS,
                "interval_days": 2,
            },
        ],
    )
    morning, evening = plan.steps.order_by("order")
    for n in range(8, 41):
        StepCheckFactory(step=morning, local_date=TODAY - dt.timedelta(days=n))
    for n in range(20, 41, 2):
        StepCheckFactory(step=evening, local_date=TODAY - dt.timedelta(days=n))
    return plan


def _plans(patient, days):
    return chart.plans_for(patient, today=TODAY, days=days)


@pytest.mark.parametrize("days", chart.WINDOWS)
def test_it_counts_what_the_adherence_figures_count(alice, plan, days):
    built = chart.build(alice, days=days, today=TODAY)
    expected = adherence.adherence(_plans(alice, days), today=TODAY, days=days)
    assert (built.total.done, built.total.due) == (expected.done, expected.due)
    assert built.total.due > 0 and len(built.days) == days
    assert built.days[-1] == TODAY - dt.timedelta(days=1)  # today is not over yet


def test_it_says_done_partly_missed_and_not_due_per_slot(alice, bob, plan):
    built = chart.build(alice, days=30, today=TODAY)
    assert built.cells[schedule.MORNING, TODAY - dt.timedelta(days=10)].status == chart.DONE
    assert built.cells[schedule.MORNING, TODAY - dt.timedelta(days=3)].status == chart.MISSED
    evenings = {built.cells[schedule.EVENING, TODAY - dt.timedelta(days=n)].status for n in (21, 22)}
    assert evenings == {chart.DONE, chart.NOT_DUE}  # glycolic every other evening
    two_mornings = PlanFactory(patient=bob, start_date=TODAY - dt.timedelta(days=5), steps=2)
    one = two_mornings.steps.first()
    PlanStep.objects.filter(plan=two_mornings).update(slot=schedule.MORNING)
    StepCheckFactory(step=one, local_date=TODAY - dt.timedelta(days=2))
    cell = chart.build(bob, days=30, today=TODAY).cells[schedule.MORNING, TODAY - dt.timedelta(days=2)]
    assert (cell.status, cell.words) == (chart.PARTLY, "1 of 2 done")


def test_it_shows_days_paused_for_a_procedure_and_the_procedure(alice, plan):
    ProcedureFactory(patient=alice, type=_peel(), date=TODAY - dt.timedelta(days=10))
    built = chart.build(alice, days=30, today=TODAY)
    paused = [d for d in built.days if built.cells[schedule.EVENING, d].status == chart.PAUSED]
    assert paused and all(TODAY - dt.timedelta(days=13) <= d <= TODAY - dt.timedelta(days=6) for d in paused)
    assert [e.day for e in built.procedures] == [TODAY - dt.timedelta(days=10)]
    assert built.holds and "Days with steps paused for a procedure" in " ".join(built.summary())
    # Paused steps are not due: the totals still match the adherence figures.
    assert built.total == adherence.adherence(_plans(alice, 30), today=TODAY, days=30)


def _peel():
    """A peel that pauses glycolic acid (by ingredient word) from 3 days before to 3 days after."""
    return ProcedureType.objects.create(name="chemical peel", stops_ingredients="glycolic", days_before=3, days_after=3)


def test_it_puts_check_ins_and_frequency_changes_on_the_same_days(alice, plan):
    step = PlanStep.objects.get(plan=plan, slot=schedule.EVENING)
    step.frequency = schedule.DAILY  # saved today, TODAY: glycolic goes nightly
    step.save()
    SkinCheckInFactory(patient=alice, local_date=TODAY - dt.timedelta(days=2), feeling="fine")
    SkinCheckInFactory(patient=alice, local_date=TODAY + dt.timedelta(days=2), feeling="stinging")
    built = chart.build(alice, days=30, today=TODAY + dt.timedelta(days=6))
    assert [(e.day, e.kind) for e in built.check_ins] == [
        (TODAY - dt.timedelta(days=2), "check-in"),
        (TODAY + dt.timedelta(days=2), "trouble"),
    ]
    assert [(e.day, e.kind, e.text) for e in built.changes] == [
        (TODAY, "assigned", "Assigned “Test routine”"),  # the fixture's plan was created today too
        (TODAY, "frequency", "Glycolic Serum: Every other evening → Every evening"),
    ]
    summary = " ".join(built.summary())
    assert "Skin: 1 check-in(s) or flags of irritation, the first on Fri 12 Mar." in summary


def test_it_draws_an_accessible_svg_with_a_table_behind_it(derm_client, alice, plan):
    html = derm_client.get(f"/admin/portal/patient/{alice.pk}/change/").content.decode()
    start = html.index('<svg xmlns="http://www.w3.org/2000/svg" role="img"')
    svg = html[start : html.index("</svg>", start)]
    assert 'role="img"' in svg and 'aria-labelledby="adherence-chart-title adherence-chart-desc"' in svg
    assert '<title id="adherence-chart-title">' in svg and '<desc id="adherence-chart-desc">' in svg
    assert "<script" not in html[html.index('id="adherence-chart"') :].split("</section>")[0]
    built = chart.build(alice, days=30, today=TODAY)
    assert f"Last 30 days: {built.total} of due steps ticked." in html
    figures = adherence.adherence(_plans(alice, 30), today=TODAY, days=30)
    assert str(figures) in html  # the "Adherence, 30 days" field says the same
    assert "<details" in html and html.count('<th scope="row">') >= 30
    assert len(re.findall(r'<rect class="cell ', svg)) == 60  # morning and evening × 30 days


def test_it_switches_to_90_days_by_a_link(derm_client, alice, plan):
    url = f"/admin/portal/patient/{alice.pk}/change/"
    html = derm_client.get(url).content.decode()
    assert 'href="?chart=90#adherence-chart"' in html
    html = derm_client.get(f"{url}?chart=90").content.decode()
    assert "Last 90 days:" in html and 'href="?chart=30#adherence-chart"' in html
    assert "Last 30 days:" in derm_client.get(f"{url}?chart=nonsense").content.decode()


def test_it_shows_no_chart_to_front_desk(desk_client, alice, plan):
    response = desk_client.get(f"/admin/portal/patient/{alice.pk}/change/")
    assert response.status_code == 200 and "adherence-chart" not in response.content.decode()


def test_it_keeps_the_patient_page_queries_bounded(derm_client, alice, plan, django_assert_max_num_queries):
    url = f"/admin/portal/patient/{alice.pk}/change/"

    def count(query="") -> int:
        with CaptureQueriesContext(connection) as queries:
            assert derm_client.get(f"{url}{query}").status_code == 200
        return len(queries)

    count()  # sessions, content types: warm
    few = count(), count("?chart=90")
    # A month of check-ins, two procedures and a dozen step edits: the same queries.
    for n in range(1, 30):
        SkinCheckInFactory(patient=alice, local_date=TODAY - dt.timedelta(days=n), feeling="dry")
    peel = _peel()
    for days_ago in (10, 60):
        ProcedureFactory(patient=alice, type=peel, date=TODAY - dt.timedelta(days=days_ago))
    for step in plan.steps.all():
        for wait in range(6):
            step.wait_minutes = wait
            step.save()
    assert (count(), count("?chart=90")) == few
    with django_assert_max_num_queries(40):
        count("?chart=90")


def test_it_charts_a_patient_without_plans(derm_client, bob):
    html = derm_client.get(f"/admin/portal/patient/{bob.pk}/change/").content.decode()
    assert "Last 30 days: – of due steps ticked." in html
    assert not Plan.objects.filter(patient=bob).exists()


def test_it_marks_the_day_a_ramping_step_moves_to_its_next_phase(alice, plan):
    step = PlanStep.objects.get(plan=plan, slot=schedule.EVENING)
    PlanPhaseFactory(step=step, order=1, frequency=schedule.EVERY_N_DAYS, interval_days=2, days=28)
    PlanPhaseFactory(step=step, order=2, frequency=schedule.DAILY)
    built = chart.build(alice, days=30, today=TODAY)
    ramp = [(e.day, e.text) for e in built.changes if e.kind == "frequency"]
    assert ramp == [(plan.start_date + dt.timedelta(days=28), "Glycolic Serum ramps up: every evening")]


def test_it_waits_with_the_ramp_while_a_skin_flag_freezes_it(alice, plan):
    step = PlanStep.objects.get(plan=plan, slot=schedule.EVENING)
    PlanPhaseFactory(step=step, order=1, frequency=schedule.EVERY_N_DAYS, interval_days=2, days=28)
    PlanPhaseFactory(step=step, order=2, frequency=schedule.DAILY)
    IrritationFlag.objects.create(patient=alice, raised_on=plan.start_date + dt.timedelta(days=20), reason="Stinging")
    built = chart.build(alice, days=30, today=TODAY)
    assert not [e for e in built.changes if e.kind == "frequency"]  # still every other evening, until reviewed
    assert [e.kind for e in built.check_ins] == ["flag"]
    assert built.total == adherence.adherence(_plans(alice, 30), today=TODAY, days=30)
