"""Schedule arithmetic: which steps are due on a local date, by slot.

Pure functions over plain values, so pages, reminders, handouts and adherence
all answer "what is due on date D" the same way. Dates are the patient's local
calendar dates; nothing here knows about clocks or time zones.
"""

import datetime as dt
from collections.abc import Iterable
from typing import Protocol

MORNING = "morning"
EVENING = "evening"
ANY_TIME = "any"
SLOTS = (MORNING, EVENING, ANY_TIME)
SLOT_CHOICES = [(MORNING, "Morning"), (EVENING, "Evening"), (ANY_TIME, "Any time")]

DAILY = "daily"
EVERY_N_DAYS = "every_n_days"
WEEKDAYS = "weekdays"
AS_NEEDED = "as_needed"
FREQUENCY_CHOICES = [
    (DAILY, "Daily"),
    (EVERY_N_DAYS, "Every N days"),
    (WEEKDAYS, "Chosen weekdays"),
    (AS_NEEDED, "As needed"),
]

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAY_CHOICES = [(str(i), name) for i, name in enumerate(WEEKDAY_NAMES)]


class Scheduled(Protocol):
    slot: str
    frequency: str
    interval_days: int
    offset_days: int
    weekdays: str  # digits, Monday = "0", e.g. "03" for Mon and Thu


def schedule_errors(*, frequency: str, interval_days: int | None, offset_days: int | None, weekdays: str) -> dict:
    """Return {field: message} for a schedule that could never be followed."""
    errors = {}
    if frequency == EVERY_N_DAYS:
        if not interval_days or interval_days < 1:
            errors["interval_days"] = "“Every N days” needs N of at least 1."
        elif offset_days is None or not 0 <= offset_days < interval_days:
            errors["offset_days"] = (
                f"The offset must be between 0 and {interval_days - 1} for every {interval_days} days."
            )
    if frequency == WEEKDAYS:
        days = set(weekdays or "")
        if not days:
            errors["weekdays"] = "Choose at least one weekday."
        elif not days <= set("0123456"):
            errors["weekdays"] = "Weekdays must be digits 0 (Monday) to 6 (Sunday)."
    return errors


def is_due(step: Scheduled, day: dt.date, *, start: dt.date, end: dt.date | None) -> bool:
    """True if `step` is due on local date `day` of a plan running start..end (inclusive)."""
    if day < start or (end is not None and day > end):
        return False
    if step.frequency == DAILY:
        return True
    if step.frequency == EVERY_N_DAYS:
        return step.interval_days >= 1 and (day - start).days % step.interval_days == step.offset_days
    if step.frequency == WEEKDAYS:
        return str(day.weekday()) in (step.weekdays or "")
    return False  # as needed: never due, never reminded


def due_by_slot(steps: Iterable[Scheduled], day: dt.date, *, start: dt.date, end: dt.date | None) -> dict:
    """Return {slot: [steps due on `day`, in the given order]} with every slot present."""
    due = {slot: [] for slot in SLOTS}
    for step in steps:
        if is_due(step, day, start=start, end=end):
            due[step.slot].append(step)
    return due


def describe(step: Scheduled) -> str:
    """The step's frequency in plain words: "Every other evening", "Mon, Wed, Fri"."""
    slot_word = {MORNING: "morning", EVENING: "evening", ANY_TIME: "day"}[step.slot]
    if step.frequency == DAILY:
        return f"Every {slot_word}"
    if step.frequency == EVERY_N_DAYS:
        if step.interval_days == 1:
            return f"Every {slot_word}"
        if step.interval_days == 2:
            return f"Every other {slot_word}"
        return f"Every {step.interval_days} days" + ("" if step.slot == ANY_TIME else f" ({slot_word})")
    if step.frequency == WEEKDAYS:
        names = ", ".join(WEEKDAY_NAMES[int(d)] for d in sorted(set(step.weekdays or "")) if d.isdigit() and d < "7")
        return names if step.slot == ANY_TIME else f"{names} {slot_word}s"
    return "As needed"
