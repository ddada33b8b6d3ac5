"""Adherence: ticks / steps due, over a window of the patient's local days.

Everything counts through `Plan.steps_scheduled_on`, the same rule the today
page and reminders use (ramp-up phases, irritation flags' freezes and procedure holds included), so a
step that was not due cannot be "missed" and a tick on a day the step was not
due does not count.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch, Q

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
    """Prefetch for `Patient.plans` with steps, phases, procedures, irritation flags and recent ticks: 6 queries for
    a page of patients.

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
        # As for any schedule: steps with products, phases, the patient's procedures (holds) and irritation
        # flags (freezes: a held ramp-up is not "missed"); the steps with their recent ticks.
        .prefetch_related(*Plan.schedule_prefetches(steps=steps))
    )
    return Prefetch("plans", queryset=plans, to_attr="adherence_plans")


def adherence(plans, *, today: dt.date, days: int) -> Adherence:
    """Ticks over due steps on the `days` complete local days before `today`.

    Today is left out: a morning is not "missed" at breakfast. Paused plans
    are left out; ended plans count up to their end date. On a day two plans
    cover (a routine re-assigned the day it started, or replaced before it
    began), only the one the patient followed counts (`Plan.followed`).
    """
    return adherence_by_window(plans, today=today, windows=(days,))[days]


def adherence_by_window(plans, *, today: dt.date, windows: tuple[int, ...] = WINDOWS) -> dict[int, Adherence]:
    """`adherence` for each of `windows` (days before `today`) in one pass: {days: Adherence}.

    The patient list shows two windows a patient: each plan's timetable is built once
    and each day asked once, whatever the number of windows.
    """
    plans = [plan for plan in plans if plan.status != Plan.Status.PAUSED]
    ticked = {
        (check.step_id, check.local_date)
        for plan in plans
        for step in plan.ordered_steps()
        for check in step.checks.all()
    }
    timetables = {plan.pk: plan.timetable() for plan in plans}
    done, due = dict.fromkeys(windows, 0), dict.fromkeys(windows, 0)
    for n in range(max(windows), 0, -1):
        day = today - dt.timedelta(days=n)
        plan = Plan.followed(plan for plan in plans if plan.covers(day))
        if plan is None:
            continue
        for steps in timetables[plan.pk].due_on(day).values():
            ticked_today = sum((step.pk, day) in ticked for step in steps)
            for days in windows:
                if n <= days:
                    due[days] += len(steps)
                    done[days] += ticked_today
    return {days: Adherence(done=done[days], due=due[days]) for days in windows}
