"""Adherence: ticks / steps due, over a window of the patient's local days.

Everything counts through `schedule.is_due`, the same rule the today page and
reminders use, so a step that was not due cannot be "missed" and a tick on a
day the step was not due does not count.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import OuterRef, Prefetch, Q, Subquery

from . import schedule
from .models import Plan, PlanStep, StepCheck

WINDOWS = (7, 30)


@dataclass(frozen=True)
class Adherence:
    done: int
    due: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.done / self.due) if self.due else None

    def __str__(self) -> str:
        return "–" if self.due == 0 else f"{self.percent}% ({self.done}/{self.due})"


def prefetch_plans(today: dt.date, days: int = max(WINDOWS)) -> Prefetch:
    """Prefetch for `Patient.plans` with steps and recent ticks: 3 queries for a whole page of patients.

    `today` is the clinic's date; the window gets a day's margin on both sides
    because each patient's own local date may differ from the clinic's.
    """
    since = today - dt.timedelta(days=days + 1)
    checks = StepCheck.objects.filter(local_date__gte=since)
    steps = PlanStep.objects.prefetch_related(Prefetch("checks", queryset=checks))
    plans = (
        Plan.objects.exclude(status=Plan.Status.PAUSED)
        .filter(start_date__lte=today + dt.timedelta(days=1))
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=since))
        .prefetch_related(Prefetch("steps", queryset=steps))
    )
    return Prefetch("plans", queryset=plans, to_attr="adherence_plans")


def adherence(plans, *, today: dt.date, days: int) -> Adherence:
    """Ticks over due steps on the `days` complete local days before `today`.

    Today is left out: a morning is not "missed" at breakfast. Paused plans
    are left out; ended plans count up to their end date.
    """
    first = today - dt.timedelta(days=days)
    done = due = 0
    for plan in plans:
        if plan.status == Plan.Status.PAUSED:
            continue
        for step in plan.steps.all():
            ticked = {check.local_date for check in step.checks.all()}
            for n in range(days):
                day = first + dt.timedelta(days=n)
                if schedule.is_due(step, day, start=plan.start_date, end=plan.end_date):
                    due += 1
                    done += day in ticked
    return Adherence(done=done, due=due)


def last_check_in_subquery():
    """Annotation value for a Patient queryset: the local date of their latest tick."""
    latest = StepCheck.objects.filter(step__plan__patient=OuterRef("pk")).order_by("-local_date")
    return Subquery(latest.values("local_date")[:1])
