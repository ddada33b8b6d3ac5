"""The plan and template builder: steps as one compact table, up/down by POST, each step added, edited and
removed on its own page, conflicts and holds beside the step, Spanish gaps marked; front desk reads only."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from portal.models import AccessLog
from routines import schedule
from routines.forms import STEP_FIELDS, STEP_FIELDSETS
from routines.models import ConflictRule, Plan, PlanStep, ProcedureType, Product, TemplateStep
from routines.services import assign_routine
from tests.admin_forms import step_form_values, unchanged_form
from tests.factories import TODAY, PlanStepFactory, ProcedureFactory, RoutineTemplateFactory

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def template(db):
    template = RoutineTemplateFactory()
    Product.objects.filter(name="Glycolic Serum").update(key_ingredients="glycolic acid")
    return template


@pytest.fixture
def plan(alice, derm, template):
    return assign_routine(patient=alice, template=template, start_date=TODAY, assigned_by=derm)


@pytest.fixture
def rule(db):
    return ConflictRule.objects.create(
        name="Retinoid with an AHA exfoliant", first_category=Product.Category.RETINOID, second_ingredients="glycolic"
    )


def _plan_url(plan):
    return f"/admin/routines/plan/{plan.pk}/change/"


def _move_url(plan):
    return f"/admin/routines/plan/{plan.pk}/move-step/"


def _titles(plan) -> list[str]:
    return [s.title for s in sorted(plan.steps.all(), key=lambda s: (schedule.SLOTS.index(s.slot), s.order, s.pk))]


def test_it_shows_the_steps_as_one_compact_table(derm_client, plan):
    html = derm_client.get(_plan_url(plan)).content.decode()
    table = html[html.index('<table class="step-table">') : html.index("</table>", html.index("step-table"))]
    assert table.count('class="step-row') == 4
    assert "Every other evening" in table and "Every morning" in table
    assert "10 min" in table  # glycolic's wait
    assert "Caution: Keep away from the eyes" in table
    glycolic = plan.steps.get(product__name="Glycolic Serum")
    assert f'href="/admin/routines/planstep/{glycolic.pk}/change/"' in table
    # The step forms travel as hidden fields only: no stacked boxes for every field of every step.
    assert 'type="hidden" name="steps-0-instructions"' in html and 'type="text" name="steps-0-' not in html
    assert f'href="/admin/routines/planstep/add/?plan={plan.pk}"' in html


def test_it_moves_a_step_up_within_its_slot_by_post(derm_client, plan):
    assert _titles(plan) == ["Exfoliating Cleanser", "Sunscreen SPF 30", "Glycolic Serum", "Retinol Serum"]
    retinol = plan.steps.get(product__name="Retinol Serum")
    response = derm_client.post(_move_url(plan), {"move": f"up:{retinol.pk}"})
    assert response.status_code == 302 and response.url == f"{_plan_url(plan)}#step-{retinol.pk}"
    assert _titles(plan) == ["Exfoliating Cleanser", "Sunscreen SPF 30", "Retinol Serum", "Glycolic Serum"]
    assert Plan.objects.get(pk=plan.pk).version == plan.version + 1
    assert AccessLog.objects.filter(patient=plan.patient, what__startswith="Moved step Retinol Serum").exists()
    assert retinol.history.count() == 2  # created, then renumbered
    # Not across slots: the first evening step stays the first evening step.
    derm_client.post(_move_url(plan), {"move": f"up:{retinol.pk}"})
    assert _titles(plan)[2] == "Retinol Serum"


def test_it_refuses_moves_by_get_without_csrf_or_by_front_desk(derm, desk_client, plan):
    retinol = plan.steps.get(product__name="Retinol Serum")
    assert desk_client.post(_move_url(plan), {"move": f"up:{retinol.pk}"}).status_code == 403
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(derm)
    assert csrf_client.post(_move_url(plan), {"move": f"up:{retinol.pk}"}).status_code == 403
    assert csrf_client.get(_move_url(plan)).status_code == 405
    assert _titles(plan)[2:] == ["Glycolic Serum", "Retinol Serum"]
    assert Plan.objects.get(pk=plan.pk).version == plan.version


@pytest.mark.parametrize("move", ["sideways:1", "up:999999", "up:", "", "up:abc"])
def test_it_moves_nothing_on_bad_input(derm_client, plan, move):
    response = derm_client.post(_move_url(plan), {"move": move}, follow=True)
    assert response.status_code == 200 and "nothing was moved" in response.content.decode()
    assert Plan.objects.get(pk=plan.pk).version == plan.version


def test_it_does_not_move_another_plans_step(derm_client, plan, bob, derm, template):
    other = assign_routine(patient=bob, template=template, start_date=TODAY, assigned_by=derm)
    foreign = other.steps.get(product__name="Retinol Serum")
    derm_client.post(_move_url(plan), {"move": f"up:{foreign.pk}"})
    assert _titles(other)[2:] == ["Glycolic Serum", "Retinol Serum"]
    assert derm_client.post("/admin/routines/plan/999999/move-step/", {"move": "up:1"}).status_code in (302, 404)


def test_it_adds_a_step_on_its_own_page_and_goes_back_to_the_plan(derm_client, plan):
    url = f"/admin/routines/planstep/add/?plan={plan.pk}"
    page = derm_client.get(url)
    assert page.status_code == 200 and "Back to all steps of" in page.content.decode()
    data = {
        "slot": schedule.EVENING,
        "order": 5,
        "instructions": "Moisturizer",
        "frequency": schedule.DAILY,
        "interval_days": 1,
        "offset_days": 0,
        "wait_minutes": 0,
        "area": "face",
        **_no_phases(),
    }
    response = derm_client.post(url, data)
    assert response.status_code == 302 and response.url == _plan_url(plan)
    assert plan.steps.filter(instructions="Moisturizer").exists()
    assert Plan.objects.get(pk=plan.pk).version == plan.version + 1


def _no_phases():
    return {"phases-TOTAL_FORMS": 0, "phases-INITIAL_FORMS": 0, "phases-MIN_NUM_FORMS": 0, "phases-MAX_NUM_FORMS": 1000}


def test_it_refuses_a_new_step_that_would_clash_with_the_message(derm_client, plan, rule):
    glycolic = Product.objects.get(name="Glycolic Serum")
    data = {
        "slot": schedule.EVENING,
        "order": 5,
        "product": glycolic.pk,
        "instructions": "More glycolic",
        "frequency": schedule.DAILY,
        "interval_days": 1,
        "offset_days": 0,
        "wait_minutes": 0,
        **_no_phases(),
    }
    response = derm_client.post(f"/admin/routines/planstep/add/?plan={plan.pk}", data)
    assert response.status_code == 200
    assert "“Retinol Serum” and “Glycolic Serum” would both be due on the evening of" in response.content.decode()
    assert not plan.steps.filter(instructions="More glycolic").exists()


@pytest.mark.parametrize("query", ["", "?plan=", "?plan=abc", "?plan=999999"])
def test_it_needs_an_existing_plan_to_add_a_step_to(derm_client, plan, query):
    assert derm_client.get(f"/admin/routines/planstep/add/{query}").status_code == 404


def test_it_lets_front_desk_read_the_builder_but_not_change_it(desk_client, plan):
    html = desk_client.get(_plan_url(plan)).content.decode()
    assert "Every other evening" in html
    assert 'form="step-move"' not in html and "/admin/routines/planstep/add/" not in html
    assert desk_client.get(f"/admin/routines/planstep/add/?plan={plan.pk}").status_code == 403
    step = plan.steps.first()
    assert desk_client.post(f"/admin/routines/planstep/{step.pk}/delete/", {"post": "yes"}).status_code == 403


def test_it_removes_a_step_on_its_own_page(derm_client, plan):
    step = plan.steps.get(product__name="Sunscreen SPF 30")
    response = derm_client.post(f"/admin/routines/planstep/{step.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and response.url == _plan_url(plan)
    assert not PlanStep.objects.filter(pk=step.pk).exists()
    assert Plan.objects.get(pk=plan.pk).version == plan.version + 1
    assert AccessLog.objects.filter(what__startswith="Removed step Sunscreen SPF 30").exists()


def test_it_edits_a_frequency_on_the_steps_page(derm_client, plan):
    step = plan.steps.get(product__name="Glycolic Serum")
    data = {**step_form_values(step), "frequency": schedule.WEEKDAYS, "weekdays": ["0", "3"], **_no_phases()}
    response = derm_client.post(f"/admin/routines/planstep/{step.pk}/change/", data)
    assert response.status_code == 302 and response.url == _plan_url(plan)
    assert "Mon, Thu evenings" in derm_client.get(_plan_url(plan)).content.decode()


def test_it_shows_a_conflict_beside_both_steps(derm_client, plan):
    plan.steps.filter(product__name="Glycolic Serum").update(frequency=schedule.DAILY)
    ConflictRule.objects.create(name="Retinoid with AHA", first_category="retinoid", second_ingredients="glycolic")
    html = derm_client.get(_plan_url(plan)).content.decode()
    for name in ("Glycolic Serum", "Retinol Serum"):
        step = plan.steps.get(product__name=name)
        row = html[html.index(f'id="step-{step.pk}"') :].split("</tr>")[0]
        assert "rule “Retinoid with AHA” forbids that" in row


def test_it_shows_a_procedures_hold_beside_the_step_it_pauses(derm_client, plan, alice):
    peel = ProcedureType.objects.create(name="chemical peel", stops_ingredients="glycolic", days_before=2, days_after=2)
    ProcedureFactory(patient=alice, type=peel, date=TODAY + dt.timedelta(days=7))
    html = derm_client.get(_plan_url(plan)).content.decode()
    glycolic = plan.steps.get(product__name="Glycolic Serum")
    row = html[html.index(f'id="step-{glycolic.pk}"') :].split("</tr>")[0]
    assert "Paused 2027-03-15 to 2027-03-18 for chemical peel on 2027-03-17 (restart 2027-03-19)" in row
    retinol = plan.steps.get(product__name="Retinol Serum")
    assert "Paused" not in html[html.index(f'id="step-{retinol.pk}"') :].split("</tr>")[0]


def test_it_warns_when_a_spanish_reader_has_steps_without_spanish(derm_client, rosa, derm, template):
    plan = assign_routine(patient=rosa, template=template, start_date=TODAY, assigned_by=derm)
    html = derm_client.get(_plan_url(plan)).content.decode()
    assert "This patient reads Spanish." in html and "Exfoliating Cleanser" in html
    plan.steps.update(instructions_es="Aplique", caution_es="Lejos de los ojos", area_es="cara")
    assert "This patient reads Spanish." not in derm_client.get(_plan_url(plan)).content.decode()


def test_it_does_not_warn_for_an_english_reader(derm_client, plan):
    html = derm_client.get(_plan_url(plan)).content.decode()
    assert "This patient reads Spanish." not in html
    assert "Missing: instructions" in html  # the column still marks the gap


def test_it_marks_template_steps_without_spanish(derm_client, template):
    template.steps.filter(product__name="Sunscreen SPF 30").update(instructions_es="Aplique", area_es="cara")
    html = derm_client.get(f"/admin/routines/routinetemplate/{template.pk}/change/").content.decode()
    sunscreen = template.steps.get(product__name="Sunscreen SPF 30")
    row = html[html.index(f'id="step-{sunscreen.pk}"') :].split("</tr>")[0]
    assert "Missing" not in row and html.count("Missing: instructions") == 3
    assert 'name="name_es"' in html


def test_it_groups_each_spanish_text_under_its_english(derm_client, plan):
    step = plan.steps.first()
    html = derm_client.get(f"/admin/routines/planstep/{step.pk}/change/").content.decode()
    names = ["instructions", "instructions_es", "caution", "caution_es", "area", "area_es"]
    positions = [html.index(f'name="{name}"') for name in names]
    assert positions == sorted(positions)
    assert 'href="/admin/routines/plan/' in html and "Back to all steps of" in html


def test_it_shows_the_spanish_names_and_notes_on_plan_and_procedure_type_forms(derm_client, plan):
    html = derm_client.get(_plan_url(plan)).content.decode()
    assert 'name="name_es"' in html and 'name="note_es"' in html
    assert 'name="name_es"' in derm_client.get("/admin/routines/proceduretype/add/").content.decode()


def test_it_reorders_template_steps_without_versions(derm_client, template):
    retinol = template.steps.get(product__name="Retinol Serum")
    url = f"/admin/routines/routinetemplate/{template.pk}/move-step/"
    assert derm_client.post(url, {"move": f"up:{retinol.pk}"}).status_code == 302
    evening = TemplateStep.objects.filter(template=template, slot=schedule.EVENING).order_by("order")
    assert [s.title for s in evening] == ["Retinol Serum", "Glycolic Serum"]


def test_it_renders_the_builder_in_as_many_queries_for_24_steps_as_for_4(derm_client, plan):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert derm_client.get(_plan_url(plan)).status_code == 200
        return len(queries)

    count()  # sessions, content types: warm
    few = count()
    for n in range(20):
        PlanStepFactory(plan=plan, slot=schedule.EVENING, order=10 + n)
    assert count() == few <= 30


def test_it_warns_on_assigning_to_a_spanish_reader(derm_client, rosa, template):
    url = f"/admin/portal/patient/{rosa.pk}/assign-routine/"
    response = derm_client.post(url, {"template": template.pk, "start_date": "2027-03-10"}, follow=True)
    assert "This patient reads Spanish; these steps have no Spanish text yet: Exfoliating Cleanser, Sunscreen" in (
        response.content.decode()
    )


def test_it_puts_every_step_field_on_the_steps_page_once():
    named = [name for _title, options in STEP_FIELDSETS for name in options["fields"]]
    assert sorted(named) == sorted(STEP_FIELDS)


def test_it_sends_patients_to_the_admin_login_not_the_builder(alice_client, plan):
    retinol = plan.steps.get(product__name="Retinol Serum")
    response = alice_client.post(_move_url(plan), {"move": f"up:{retinol.pk}"})
    assert response.status_code == 302 and "/admin/login/" in response.url
    assert alice_client.get(f"/admin/routines/planstep/add/?plan={plan.pk}").status_code == 302
    assert _titles(plan)[2:] == ["Glycolic Serum", "Retinol Serum"]


def test_it_moves_a_dragged_step_to_its_new_place_in_its_slot(derm_client, plan):
    for n in range(3):
        PlanStepFactory(plan=plan, slot=schedule.EVENING, order=10 + n, instructions=f"Extra {n}")
    plan = Plan.objects.get(pk=plan.pk)
    cleanser = plan.steps.get(product__name="Exfoliating Cleanser")
    extra = plan.steps.get(instructions="Extra 2")
    assert derm_client.post(_move_url(plan), {"move": f"to:{extra.pk}:1"}).status_code == 302
    assert _titles(plan)[2:5] == [extra.title, "Glycolic Serum", "Retinol Serum"]
    # A place past the end is the last place; the other slot is left alone.
    derm_client.post(_move_url(plan), {"move": f"to:{cleanser.pk}:9"})
    assert _titles(plan)[:2] == ["Sunscreen SPF 30", "Exfoliating Cleanser"]
    assert [s.order for s in sorted(plan.steps.all(), key=lambda s: s.order)] == list(range(1, 8))


def test_it_adds_template_steps_and_shows_a_template_conflict_beside_its_steps(derm_client, template):
    url = f"/admin/routines/routinetemplate/{template.pk}/change/"
    add = f"/admin/routines/templatestep/add/?template={template.pk}"
    assert f'href="{add}"' in derm_client.get(url).content.decode()
    data = {
        "slot": schedule.MORNING,
        "order": 3,
        "instructions": "Moisturizer",
        "frequency": schedule.DAILY,
        "interval_days": 1,
        "offset_days": 0,
        "wait_minutes": 0,
        **_no_phases(),
    }
    response = derm_client.post(add, data)
    assert response.status_code == 302 and response.url == url
    assert template.steps.filter(instructions="Moisturizer").exists()

    template.steps.filter(product__name="Glycolic Serum").update(frequency=schedule.DAILY)
    ConflictRule.objects.create(name="Retinoid with AHA", first_category="retinoid", second_ingredients="glycolic")
    html = derm_client.get(url).content.decode()
    retinol = template.steps.get(product__name="Retinol Serum")
    row = html[html.index(f'id="step-{retinol.pk}"') :].split("</tr>")[0]
    assert "of a plan starting on a" in row and "Retinoid with AHA" in row


def test_it_refuses_a_plan_page_opened_before_a_step_was_changed(derm_client, plan):
    response = derm_client.get(_plan_url(plan))
    data = unchanged_form(response)
    assert data["seen_version"] == plan.version
    glycolic = plan.steps.get(product__name="Glycolic Serum")
    edit = {**step_form_values(glycolic), "wait_minutes": 20, **_no_phases()}
    assert derm_client.post(f"/admin/routines/planstep/{glycolic.pk}/change/", edit).status_code == 302
    data["note"] = "Saved from the old page"
    response = derm_client.post(_plan_url(plan), data)
    assert response.status_code == 200 and "This plan has changed since this page was opened" in (
        response.content.decode()
    )
    assert plan.steps.get(pk=glycolic.pk).wait_minutes == 20
    assert Plan.objects.get(pk=plan.pk).note != "Saved from the old page"
    fresh = unchanged_form(derm_client.get(_plan_url(plan)))
    fresh["note"] = "Saved from a fresh page"
    assert derm_client.post(_plan_url(plan), fresh).status_code == 302
    assert plan.steps.get(pk=glycolic.pk).wait_minutes == 20


def test_an_old_copy_of_the_template_page_never_undoes_a_step_edited_since(admin_client):
    template = RoutineTemplateFactory()
    url = f"/admin/routines/routinetemplate/{template.pk}/change/"
    old_page = unchanged_form(admin_client.get(url))
    step = template.steps.order_by("pk").first()
    TemplateStep.objects.filter(pk=step.pk).update(wait_minutes=20)  # edited on its own page meanwhile
    assert admin_client.post(url, old_page).status_code == 302
    step.refresh_from_db()
    assert step.wait_minutes == 20
