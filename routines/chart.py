"""The adherence chart on a patient's admin page: each day's morning and evening on one time axis with
skin check-ins, procedures and their holds, and plan changes, so "stopped after the peel" or "stinging
since retinol went nightly" can be seen at a glance.

Plain data for a server-drawn SVG (templates/admin/routines/adherence_chart.html) and the table behind
it. Days count exactly as `adherence.adherence_by_window` counts them (the same plans, ticks, timetables
and `Plan.followed`), so the chart's totals are the patient page's percentages.
"""

import datetime as dt
from dataclasses import dataclass, field, replace

from django.utils import timezone
from django.utils.formats import date_format

from portal.models import Patient

from . import adherence, schedule
from .models import IrritationFlag, Plan, PlanStep, Procedure, SkinCheckIn

WINDOWS = (30, 90)  # days the chart can show, the first by default

DONE, PARTLY, MISSED, NOT_DUE, PAUSED = "done", "partly", "missed", "not-due", "paused"
STATUS_WORDS = {
    DONE: "done",
    PARTLY: "partly done",
    MISSED: "missed",
    NOT_DUE: "nothing due",
    PAUSED: "paused for a procedure",
}
SKIN_TROUBLE = {SkinCheckIn.Feeling.STINGING, SkinCheckIn.Feeling.PEELING, SkinCheckIn.Feeling.RED_AND_SORE}
# The schedule's own fields: a change to any of them is a change of frequency.
FREQUENCY_FIELDS = ("slot", "frequency", "interval_days", "offset_days", "weekdays")
TEXT_FIELDS = (
    "product_id",
    "instructions",
    "caution",
    "area",
    "wait_minutes",
    "instructions_es",
    "caution_es",
    "area_es",
)

# Layout of the SVG, in px.
LABEL_WIDTH = 112
PLOT_WIDTH = 720
ROW_HEIGHT = 26
GAP = 6


@dataclass(frozen=True)
class Cell:
    """One slot of one day: how many steps were due and ticked, and which were paused for a procedure."""

    day: dt.date
    slot: str
    due: int = 0
    done: int = 0
    paused: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        if self.due:
            return DONE if self.done == self.due else PARTLY if self.done else MISSED
        return PAUSED if self.paused else NOT_DUE

    @property
    def words(self) -> str:
        """ "2 of 3 done", "paused for a procedure (Retinol Serum)", "nothing due"."""
        if self.due:
            text = f"{self.done} of {self.due} done"
            return f"{text}; paused: {', '.join(self.paused)}" if self.paused else text
        return f"{STATUS_WORDS[self.status]} ({', '.join(self.paused)})" if self.paused else STATUS_WORDS[self.status]


@dataclass(frozen=True)
class Event:
    """Something on the time axis besides ticks: a check-in, a flag, a procedure or a plan change."""

    day: dt.date
    kind: str  # "check-in", "trouble", "flag", "procedure", "assigned", "frequency", "edited", "added", "removed"
    text: str


@dataclass
class Chart:
    first: dt.date
    last: dt.date
    days: list[dt.date]
    slots: list[str]
    cells: dict[tuple[str, dt.date], Cell]
    check_ins: list[Event] = field(default_factory=list)
    procedures: list[Event] = field(default_factory=list)
    holds: list[tuple[dt.date, dt.date, str]] = field(default_factory=list)  # first, last, what (within the window)
    changes: list[Event] = field(default_factory=list)

    @property
    def slot_labels(self) -> list[str]:
        return [schedule_slot_word(slot) for slot in self.slots]

    @property
    def total(self) -> adherence.Adherence:
        """Ticks over due steps on the chart's days: `adherence.adherence` over the same window."""
        cells = self.cells.values()
        return adherence.Adherence(done=sum(c.done for c in cells), due=sum(c.due for c in cells))

    def slot_total(self, slot: str) -> adherence.Adherence:
        cells = [c for (s, _day), c in self.cells.items() if s == slot]
        return adherence.Adherence(done=sum(c.done for c in cells), due=sum(c.due for c in cells))

    def table(self) -> list[dict]:
        """One row a day, newest first, for the table behind the picture."""
        events = {}
        for event in [*self.check_ins, *self.procedures, *self.changes]:
            events.setdefault(event.day, []).append(event.text)
        return [
            {
                "day": day,
                "cells": [self.cells[slot, day] for slot in self.slots],
                "events": events.get(day, []),
            }
            for day in reversed(self.days)
        ]

    def summary(self) -> list[str]:
        """A few sentences saying what the picture shows, for everyone and for screen readers first."""
        lines = [f"Last {len(self.days)} days: {self.total} of due steps ticked."]
        by_slot = [f"{schedule_slot_word(slot)} {self.slot_total(slot)}" for slot in self.slots]
        lines.append("By slot: " + "; ".join(by_slot) + ".")
        missed = [day for day in self.days if any(self.cells[s, day].status == MISSED for s in self.slots)]
        if missed:
            lines.append(f"Days with a slot missed entirely: {len(missed)}, the last on {_day(missed[-1])}.")
        paused = [day for day in self.days if any(self.cells[s, day].status == PAUSED for s in self.slots)]
        if paused:
            lines.append(f"Days with steps paused for a procedure: {len(paused)}.")
        trouble = [e for e in self.check_ins if e.kind in ("trouble", "flag")]
        if trouble:
            lines.append(
                f"Skin: {len(trouble)} check-in(s) or flags of irritation, the first on {_day(trouble[0].day)}."
            )
        elif self.check_ins:
            lines.append(f"Skin: {len(self.check_ins)} check-in(s), none of irritation.")
        if self.changes:
            lines.append(f"Plan changes: {len(self.changes)}, the last on {_day(self.changes[-1].day)}.")
        return lines


def schedule_slot_word(slot: str) -> str:
    return str(dict(schedule.SLOT_CHOICES)[slot])


def _day(day: dt.date) -> str:
    return date_format(day, "D j M")


def plans_for(patient: Patient, *, today: dt.date, days: int) -> list:
    """The patient's plans as `adherence` reads them, with steps, phases, procedures and ticks for `days` days."""
    return list(adherence.prefetch_plans(today, days).queryset.filter(patient=patient))


def build(patient: Patient, *, days: int = WINDOWS[0], today: dt.date | None = None, plans=None) -> Chart:
    """The chart of the `days` complete local days before the patient's `today` (today is not over yet).

    `plans`: the patient's plans loaded by `adherence.prefetch_plans` for at least `days` days (the
    patient page has them for 30); read here if not given.
    """
    today = today or patient.local_today()
    if plans is None:
        plans = plans_for(patient, today=today, days=days)
    first, last = today - dt.timedelta(days=days), today - dt.timedelta(days=1)
    dates = [first + dt.timedelta(days=n) for n in range(days)]
    # Paused plans count nowhere, as in `adherence`; each timetable built once for cells and ramps.
    timetables = {plan.pk: plan.timetable() for plan in plans if plan.status != Plan.Status.PAUSED}
    chart = Chart(first=first, last=last, days=dates, slots=[], cells=_cells(plans, dates, timetables))
    chart.slots = [schedule.MORNING, schedule.EVENING]
    if any(step.slot == schedule.ANY_TIME for plan in plans for step in plan.ordered_steps()):
        chart.slots.append(schedule.ANY_TIME)
    chart.cells = {(slot, day): chart.cells.get((slot, day), Cell(day, slot)) for slot in chart.slots for day in dates}
    chart.check_ins = _check_ins(patient, first, last)
    chart.procedures, chart.holds = _procedures(patient, first, last)
    changes = [*_changes(patient, first, last), *_ramps(plans, timetables, first, last)]
    chart.changes = sorted(changes, key=lambda e: e.day)
    return chart


def _ramps(plans, timetables, first, last) -> list[Event]:
    """The days a ramping step moves to its next phase ("Retinol Serum ramps up: every evening"): a change
    of frequency nobody saved that day, but the patient's skin meets it all the same. A skin flag's
    freeze (`schedule.Freeze`) moves those days later, as it does for the schedule itself."""
    events = []
    for plan in plans:
        timetable = timetables.get(plan.pk)
        if timetable is None:
            continue
        for step in timetable.steps:
            phases = timetable.phases.get(step.pk, ())
            for span in schedule.phase_spans(phases, start=timetable.start, freezes=timetable.freezes)[1:]:
                if first <= span.first <= last and plan.covers(span.first):
                    words = schedule.describe(step, (span.phase,)).lower()
                    events.append(Event(span.first, "frequency", f"{step.title} ramps up: {words}"))
    return events


def _cells(plans, dates, timetables) -> dict:
    """{(slot, day): Cell}, counted as `adherence.adherence_by_window` counts (its docstring says why)."""
    plans = [plan for plan in plans if plan.pk in timetables]
    ticked = {(c.step_id, c.local_date) for plan in plans for step in plan.ordered_steps() for c in step.checks.all()}
    cells = {}
    for day in dates:
        plan = Plan.followed(plan for plan in plans if plan.covers(day))
        if plan is None:
            continue
        timetable = timetables[plan.pk]
        due = timetable.due_on(day)
        unheld = replace(timetable, holds={}).due_on(day)  # the same day without the holds: what a procedure paused
        for slot, steps in due.items():
            paused = tuple(step.title for step in unheld[slot] if step not in steps)
            done = sum((step.pk, day) in ticked for step in steps)
            cells[slot, day] = Cell(day, slot, due=len(steps), done=done, paused=paused)
    return cells


def _check_ins(patient, first, last) -> list[Event]:
    answers = SkinCheckIn.objects.filter(patient=patient, local_date__range=(first, last)).order_by("local_date")
    events = [
        Event(a.local_date, "trouble" if a.feeling in SKIN_TROUBLE else "check-in", f"Skin: {a.get_feeling_display()}")
        for a in answers
    ]
    flags = IrritationFlag.objects.filter(patient=patient, raised_on__range=(first, last))
    events += [Event(f.raised_on, "flag", f"Skin flagged: {f.reason}") for f in flags]
    return sorted(events, key=lambda e: e.day)


def _procedures(patient, first, last):
    """Procedures whose hold touches the window (as events on their day) and the holds, clipped to the window."""
    procedures, holds = [], []
    for procedure in Procedure.objects.filter(patient=patient).select_related("type").order_by("date"):
        hold = procedure.hold
        if hold.last < first or hold.first > last:
            continue
        if first <= procedure.date <= last:
            procedures.append(Event(procedure.date, "procedure", f"Procedure: {procedure.type}"))
        holds.append((max(hold.first, first), min(hold.last, last), str(procedure.type)))
    return procedures, holds


def _changes(patient, first, last) -> list[Event]:
    """Assignments, status changes and step edits (from simple-history) on the window's days, oldest first.

    Steps copied in at assignment are part of "assigned", not each an "added". A step edit that
    changed its schedule says from what to what, in the words the builder uses.
    """
    zone = patient.tz

    def local(moment) -> dt.date:
        return timezone.localtime(moment, zone).date()

    events = []
    created = {}
    previous_plan = {}
    for record in Plan.history.filter(patient=patient).order_by("history_date", "history_id"):
        before = previous_plan.get(record.id)
        previous_plan[record.id] = record
        if record.history_type == "+":
            created[record.id] = record.history_date
            events.append(Event(local(record.history_date), "assigned", f"Assigned “{record.name}”"))
        elif record.history_type == "~" and before is not None and before.status != record.status:
            events.append(Event(local(record.history_date), "edited", f"Plan {record.get_status_display().lower()}"))
    # Each plan's first day (as last saved): a plan assigned today to start last week starts on the axis.
    for record in previous_plan.values():
        if record.history_type != "-":
            events.append(Event(record.start_date, "assigned", f"“{record.name}” starts"))
    previous_step = {}
    records = PlanStep.history.filter(plan_id__in=list(previous_plan)).select_related("product")
    for record in records.order_by("history_date", "history_id"):
        before = previous_step.get(record.id)
        previous_step[record.id] = record
        title = record.product.name if record.product_id and record.product else record.instructions
        at = record.history_date
        if record.history_type == "+":
            assigned = created.get(record.plan_id)
            if assigned is None or abs((at - assigned).total_seconds()) > 60:
                events.append(Event(local(at), "added", f"Step added: {title}"))
        elif record.history_type == "-":
            events.append(Event(local(at), "removed", f"Step removed: {title}"))
        elif before is not None and any(getattr(before, f) != getattr(record, f) for f in FREQUENCY_FIELDS):
            was, now = schedule.describe(before), schedule.describe(record)
            events.append(Event(local(at), "frequency", f"{title}: {was} → {now}"))
        elif before is not None and any(getattr(before, f) != getattr(record, f) for f in TEXT_FIELDS):
            events.append(Event(local(at), "edited", f"Step edited: {title}"))
        elif before is not None:  # the order only (the builder's up/down), or its ramp-up phases
            events.append(Event(local(at), "edited", "Steps reordered or ramp-up edited"))
    # One event for the several steps a move renumbers.
    return [event for event in sorted(dict.fromkeys(events), key=lambda e: e.day) if first <= event.day <= last]


# --- Layout: where each thing goes in the SVG -----------------------------------------------------


@dataclass(frozen=True)
class Mark:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str
    rx: int = 0  # rounded corners: a point event, not a day's cell


def layout(chart: Chart) -> dict:
    """Positions for the SVG: rows (label, y), marks (rects with a <title>), date ticks, size.

    Rows from the top: plan changes, procedures and holds, one per slot, skin check-ins.
    """
    step = PLOT_WIDTH / len(chart.days)
    x_of = {day: LABEL_WIDTH + n * step for n, day in enumerate(chart.days)}
    labels = ["Plan changes", "Procedures", *(schedule_slot_word(s) for s in chart.slots), "Skin"]
    rows = [{"label": label, "y": n * (ROW_HEIGHT + GAP)} for n, label in enumerate(labels)]
    y = {label: row["y"] for label, row in zip(labels, rows, strict=True)}
    inset = 1 if step > 4 else 0
    marks = []

    def point(event: Event, row: str, css: str) -> Mark:
        x = round(x_of[event.day] + step / 2 - 5, 1)
        return Mark(x, y[row] + ROW_HEIGHT / 2 - 5, 10, 10, css, f"{_day(event.day)}: {event.text}", rx=5)

    marks += [point(event, "Plan changes", f"change change-{event.kind}") for event in chart.changes]
    for hold_first, hold_last, what in chart.holds:
        width = (x_of[hold_last] - x_of[hold_first]) + step
        title = f"{_day(hold_first)} to {_day(hold_last)}: steps paused for {what}"
        marks.append(Mark(x_of[hold_first], y["Procedures"] + 8, width, ROW_HEIGHT - 16, "hold", title))
    marks += [point(event, "Procedures", "procedure") for event in chart.procedures]
    for slot in chart.slots:
        row = schedule_slot_word(slot)
        for day in chart.days:
            cell = chart.cells[slot, day]
            title = f"{_day(day)}, {row.lower()}: {cell.words}"
            marks.append(
                Mark(x_of[day] + inset, y[row] + 2, step - 2 * inset, ROW_HEIGHT - 4, f"cell {cell.status}", title)
            )
    marks += [point(event, "Skin", f"skin skin-{event.kind}") for event in chart.check_ins]
    every = 7 if len(chart.days) <= 31 else 14
    ticks = [
        {"x": x_of[day] + step / 2, "day": day}
        for n, day in enumerate(chart.days)
        if (len(chart.days) - 1 - n) % every == 0
    ]
    height = len(rows) * (ROW_HEIGHT + GAP) + 24
    return {
        "rows": rows,
        "marks": marks,
        "ticks": ticks,
        "width": LABEL_WIDTH + PLOT_WIDTH + 24,  # room for the last date's label
        "height": height,
        "axis_y": height - 8,
        "row_height": ROW_HEIGHT,
        "label_width": LABEL_WIDTH,
    }
