"""Helpers shared by the reminder tests (no tests here)."""

import datetime as dt

from routines import schedule
from routines.models import Plan, PlanStep


def make_plan(patient, *, steps=None, start=dt.date(2027, 1, 1), end=None, name="Milia care", status="active"):
    """A plan for `patient`; steps are (slot, instructions[, frequency, interval, offset])."""
    plan = Plan.objects.create(patient=patient, name=name, start_date=start, end_date=end, status=status)
    steps = steps or [
        (schedule.MORNING, "Gentle cleanser"),
        (schedule.MORNING, "Sunscreen SPF 30"),
        (schedule.EVENING, "Gentle cleanser"),
        (schedule.EVENING, "Glycolic acid, thin layer", schedule.EVERY_N_DAYS, 2, 0),
        (schedule.EVENING, "Moisturizer"),
    ]
    for order, step in enumerate(steps):
        slot, text, *rest = step
        frequency, interval, offset = rest if rest else (schedule.DAILY, 1, 0)
        PlanStep.objects.create(
            plan=plan,
            slot=slot,
            order=order,
            instructions=text,
            frequency=frequency,
            interval_days=interval,
            offset_days=offset,
        )
    return plan


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)
