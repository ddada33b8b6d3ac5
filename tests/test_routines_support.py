"""Builders shared by the routines tests (no tests in here)."""

import datetime as dt
import itertools

from routines import schedule
from routines.forms import STEP_FIELDS
from routines.models import Plan, PlanStep, Product, RoutineTemplate, TemplateStep

_serial = itertools.count()
TODAY = dt.date(2027, 3, 10)  # a Wednesday
NOON_UTC = "2027-03-10T17:00:00Z"  # noon in New York, so the patient's local date is TODAY


def milia_template() -> RoutineTemplate:
    template = RoutineTemplate.objects.create(name="Milia care")
    cleanser = Product.objects.create(name="Exfoliating Cleanser", category=Product.Category.CLEANSER)
    glycolic = Product.objects.create(name="Glycolic Serum", category=Product.Category.SERUM)
    retinol = Product.objects.create(name="Retinol Serum", category=Product.Category.RETINOID)
    spf = Product.objects.create(name="Sunscreen SPF 30", category=Product.Category.SUNSCREEN, spf=30)
    TemplateStep.objects.create(
        template=template, slot=schedule.MORNING, order=1, product=cleanser, instructions="Small circles"
    )
    TemplateStep.objects.create(template=template, slot=schedule.MORNING, order=2, product=spf, instructions="Apply")
    TemplateStep.objects.create(
        template=template,
        slot=schedule.EVENING,
        order=1,
        product=glycolic,
        instructions="Thin layer",
        frequency=schedule.EVERY_N_DAYS,
        interval_days=2,
        offset_days=0,
        wait_minutes=10,
        caution="Keep away from the eyes",
    )
    TemplateStep.objects.create(
        template=template,
        slot=schedule.EVENING,
        order=2,
        product=retinol,
        instructions="Pea-sized amount",
        frequency=schedule.EVERY_N_DAYS,
        interval_days=2,
        offset_days=1,
    )
    return template


def make_plan(patient, *, steps: int = 3, start: dt.date = TODAY, **fields) -> Plan:
    """A running plan with `steps` daily steps (morning and evening alternately), each with a product."""
    plan = Plan.objects.create(patient=patient, name="Test routine", start_date=start, **fields)
    for n in range(steps):
        product = Product.objects.create(name=f"Product {next(_serial)}")
        PlanStep.objects.create(
            plan=plan,
            slot=schedule.MORNING if n % 2 == 0 else schedule.EVENING,
            order=n,
            product=product,
            instructions=f"Step number {n}",
        )
    return plan


def step_form_values(step) -> dict:
    """A step's fields as the admin's step form posts them (weekdays left to the caller)."""
    return {
        field: (step.product_id or "") if field == "product" else getattr(step, field)
        for field in STEP_FIELDS
        if field != "weekdays"
    }
