"""Old names for tests.factories, kept until test_reminder_settings converts (no tests here)."""

import datetime as dt

from routines.models import Plan
from tests.factories import MiliaCarePlanFactory

STEP_FIELDS = ("slot", "instructions", "frequency", "interval_days", "offset_days")


def make_plan(patient, *, steps=None, start=dt.date(2027, 1, 1), end=None, name="Milia care", status="active") -> Plan:
    """A plan for `patient`; steps are (slot, instructions[, frequency, interval, offset])."""
    rows = [dict(zip(STEP_FIELDS, step, strict=False)) for step in steps] if steps else None
    return MiliaCarePlanFactory(patient=patient, steps=rows, start_date=start, end_date=end, name=name, status=status)
