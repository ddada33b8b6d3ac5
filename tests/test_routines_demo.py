import datetime as dt
import os

from django.core.management import call_command

from portal.models import Patient
from routines import schedule
from routines.models import Plan, RoutineTemplate, StepCheck


def test_it_seeds_the_milia_plan_idempotently(db):
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    counts = (Plan.objects.count(), StepCheck.objects.count(), RoutineTemplate.objects.count())
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    assert (Plan.objects.count(), StepCheck.objects.count(), RoutineTemplate.objects.count()) == counts

    patient = Patient.objects.get(user__username="demo-patient")
    today = patient.local_today()
    plan = Plan.objects.get(patient=patient)
    assert plan.name == "Milia care" and plan.end_date is None
    assert plan.start_date == today - dt.timedelta(days=14)
    assert StepCheck.objects.filter(step__plan=plan, local_date__lt=today).exists()
    template = RoutineTemplate.objects.get(name="Milia care")
    assert set(template.articles.all()) == set(plan.articles.all())


def test_it_has_a_step_every_morning_and_every_evening_of_the_milia_plan(db):
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    plan = Plan.objects.get(patient__user__username="demo-patient")
    glycolic_days = set()
    for n in range(60):
        day = plan.start_date + dt.timedelta(n)
        due = plan.steps_due_on(day)
        assert due[schedule.MORNING] and due[schedule.EVENING], day
        names = {step.title for step in due[schedule.EVENING]}
        assert not {"Bioclear Serum", "Youth Renewal Retinol Serum"} <= names  # never both on one evening
        if "Bioclear Serum" in names:
            glycolic_days.add(day)
    assert len(glycolic_days) == 30
    assert any("SPF" in step.title for step in plan.steps_due_on(plan.start_date)[schedule.MORNING])


def test_it_ramps_up_demo_patients_retinol(db):
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    plan = Plan.objects.get(patient__user__username="demo-patient")
    retinol = plan.steps.get(product__name="Youth Renewal Retinol Serum")
    assert len(retinol.phase_values()) == 3
    assert retinol.progress_on(plan.patient.local_today()).startswith("Week 3 of 4")
    template = RoutineTemplate.objects.get(name="Milia care")
    assert template.steps.get(product__name="Youth Renewal Retinol Serum").phases.count() == 3
