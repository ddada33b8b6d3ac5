"""Old names for tests.factories, kept until test_today and test_phases convert (no tests in here)."""

import datetime as dt

from routines.models import Plan, RoutineTemplate
from tests.factories import NOON_UTC, TODAY, PlanFactory, RoutineTemplateFactory

__all__ = ["NOON_UTC", "TODAY", "make_plan", "milia_template"]


def make_plan(patient, *, steps: int = 3, start: dt.date = TODAY, **fields) -> Plan:
    return PlanFactory(patient=patient, steps=steps, start_date=start, **fields)


def milia_template() -> RoutineTemplate:
    return RoutineTemplateFactory()
