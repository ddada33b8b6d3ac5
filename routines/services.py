"""Workflows that span several models. Called by views, admin and commands alike."""

import datetime as dt
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from portal.models import Patient

from .forms import PHASE_FIELDS, STEP_FIELDS
from .models import Plan, PlanPhase, PlanStep, RoutineTemplate

# What a template step hands on to its plan copy (the product and article by id, to skip a query each).
COPIED_FIELDS = [f"{name}_id" if name in ("product", "article") else name for name in STEP_FIELDS]


@transaction.atomic
def assign_routine(
    *,
    patient: Patient,
    template: RoutineTemplate,
    start_date: dt.date,
    assigned_by: AbstractBaseUser | None,
    end_date: dt.date | None = None,
    note: str = "",
    articles: Iterable | None = None,
) -> Plan:
    """Copy `template` (steps and their ramp-up phases) into a new active plan for `patient`; return it (version 1).

    The plan's steps are the patient's own from then on: editing them never
    touches the template. `articles=None` links the template's articles.
    A patient follows one plan at a time, so other active plans of this
    patient end the day before the new one starts: a plan assigned to start
    next week leaves the current one running until then. One that would not
    have started by then is ended outright.
    """
    if end_date is not None and end_date < start_date:
        raise ValueError("The end date cannot be before the start date.")
    last_day = start_date - dt.timedelta(days=1)
    for old in Plan.objects.select_for_update().filter(patient=patient, status=Plan.Status.ACTIVE):
        if old.end_date is None or old.end_date > last_day:
            old.end_date = max(old.start_date, last_day)
        if last_day < old.start_date or last_day < patient.local_today():
            old.status = Plan.Status.ENDED
        old.save(update_fields=["status", "end_date", "updated_at"])

    plan = Plan.objects.create(
        patient=patient,
        template=template,
        name=template.name,
        name_es=template.name_es,
        start_date=start_date,
        end_date=end_date,
        note=note,
        assigned_by=assigned_by,
    )
    template_steps = list(template.steps.order_by("slot", "order", "id").prefetch_related("phases"))
    # With history, like any other save of a step: the first copy of each says who assigned it.
    plan_steps = bulk_create_with_history(
        [PlanStep(plan=plan, **{field: getattr(step, field) for field in COPIED_FIELDS}) for step in template_steps],
        PlanStep,
        default_user=assigned_by,
    )
    PlanPhase.objects.bulk_create(
        PlanPhase(step=plan_step, **{field: getattr(phase, field) for field in PHASE_FIELDS})
        for step, plan_step in zip(template_steps, plan_steps, strict=True)
        for phase in step.phases.all()
    )
    plan.articles.set(template.articles.all() if articles is None else articles)
    return plan
