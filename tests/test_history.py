"""Change history (simple-history): who changed a patient, a plan or a step, and when; kept clean on removal."""

import io
import json

from django.core.management import call_command

from portal.models import Patient
from portal.services import anonymise_patient
from routines.models import Plan, PlanStep
from routines.services import assign_routine
from tests.admin_forms import unchanged_form
from tests.factories import PlanFactory, RoutineTemplateFactory


def test_it_records_the_staff_user_who_changed_a_patient_in_the_admin(desk_client, desk, alice):
    url = f"/admin/portal/patient/{alice.pk}/change/"
    data = unchanged_form(desk_client.get(url))
    data["phone"] = "555-0142"
    assert desk_client.post(url, data).status_code == 302
    copy = alice.history.latest()
    assert (copy.history_type, copy.history_user, copy.phone) == ("~", desk, "555-0142")
    assert copy.prev_record.phone != "555-0142"


def test_it_records_the_staff_user_who_changed_a_plan_and_its_steps_in_the_admin(derm_client, derm, alice):
    plan = PlanFactory(patient=alice, steps=2)
    url = f"/admin/routines/plan/{plan.pk}/change/"
    data = unchanged_form(derm_client.get(url))
    data["note"] = "Gently: twice a week at first."
    before = data["steps-0-instructions"]
    data["steps-0-instructions"] = "Thin layer, away from the eyes"
    assert derm_client.post(url, data).status_code == 302

    copy = plan.history.latest()
    assert (copy.history_type, copy.history_user, copy.note) == ("~", derm, "Gently: twice a week at first.")
    step = PlanStep.objects.get(pk=data["steps-0-id"])
    step_copy = step.history.latest()
    assert (step_copy.history_type, step_copy.history_user) == ("~", derm)
    assert (step_copy.prev_record.instructions, step_copy.instructions) == (before, "Thin layer, away from the eyes")
    untouched = plan.steps.exclude(pk=step.pk).get()
    assert untouched.history.count() == 1  # only its creation: an unchanged inline form saves nothing


def test_it_never_copies_the_calendar_token(alice):
    assert "calendar_token" not in {field.name for field in Patient.history.model._meta.fields}
    alice.calendar_token = "new-secret"
    alice.save()
    assert "new-secret" not in json.dumps(list(alice.history.values()), default=str)


def test_it_takes_identifying_values_out_of_old_copies_when_a_patient_is_removed(alice, bob):
    alice.phone = "555-0199"
    alice.save()
    plan = PlanFactory(patient=alice, steps=1)
    plan.name = "Milia care for Alice"
    plan.save()
    plan.name = "Milia care"
    plan.save()
    gone = PlanFactory(patient=alice, steps=0)
    gone.name = "Alice's old plan"
    gone.save()
    gone.delete()

    anonymise_patient(patient=alice)

    copies = list(alice.history.values())
    assert {(c["chart_number"], c["date_of_birth"], c["phone"]) for c in copies} == {
        (alice.chart_number, alice.date_of_birth, "")
    }
    assert len(copies) == 3  # made, phone changed, removed: who and when stay
    names = set(Plan.history.filter(patient=alice).values_list("name", flat=True))
    assert names == {"Milia care", "(removed with the patient)"}
    assert bob.history.get().chart_number == bob.chart_number


def test_it_exports_the_saved_copies_of_the_patients_record_plans_and_steps(alice, bob, tmp_path):
    alice.phone = "555-0199"
    alice.save()
    plan = PlanFactory(patient=alice, steps=1)
    step_id = plan.steps.get().pk
    plan.steps.get().delete()
    PlanFactory(patient=bob, steps=1)
    out = tmp_path / "alice.json"
    call_command("export_patient", alice.chart_number, output=str(out), stdout=io.StringIO())
    record = json.loads(out.read_text())
    assert [c["phone"] for c in record["patient.history"]] == ["", "555-0199"]
    assert [(c["id"], c["history_type"]) for c in record["plans.history"]] == [(plan.pk, "+")]
    assert [(c["id"], c["history_type"]) for c in record["plans.steps.history"]] == [(step_id, "+"), (step_id, "-")]
    assert "calendar_token" not in out.read_text()
    assert bob.chart_number not in out.read_text()


def test_it_shows_staff_the_saved_copies_of_a_patient_plan_and_step_read_only(derm_client, alice):
    plan = PlanFactory(patient=alice)
    step = plan.steps.first()
    step.instructions = "Two pumps"
    step.save()
    for url in (
        f"/admin/portal/patient/{alice.pk}/history/",
        f"/admin/routines/plan/{plan.pk}/history/",
        f"/admin/routines/planstep/{step.pk}/history/",
    ):
        page = derm_client.get(url)
        assert page.status_code == 200, url
        assert "Changed by" in page.content.decode() or "Change reason" in page.content.decode(), url
    version = step.history.order_by("history_date").first().history_id
    before = step.history.count()
    restore = derm_client.post(f"/admin/routines/planstep/{step.pk}/history/{version}/", {"instructions": "Old"})
    assert restore.status_code == 403
    step.refresh_from_db()
    assert step.instructions == "Two pumps" and step.history.count() == before


def test_it_records_who_assigned_each_step_of_a_new_plan(derm, alice):
    plan = assign_routine(
        patient=alice, template=RoutineTemplateFactory(), start_date=alice.local_today(), assigned_by=derm
    )
    steps = list(plan.steps.all())
    assert steps
    assert all(step.history.get().history_user == derm for step in steps)
