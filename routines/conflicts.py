"""Conflict rules: pairs of products the clinic never wants in the same slot on the same day.

Pure functions over plain values, like `schedule.py`: the admin validates a
template or plan by asking for the first clash in a window of days, and
tests compare the answer with a brute-force walk.

A step is on a side of a rule when its product has the side's category, or
its key ingredients contain one of the side's ingredient words (case does not
matter). A step without a product is on no side. "Any time" steps meet steps
of every slot, since the patient may well use them in the evening.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.formats import date_format

from . import schedule

WINDOW_DAYS = 90


def ingredient_terms(text: str) -> tuple[str, ...]:
    """ "Glycolic acid, lactic acid" → ("glycolic acid", "lactic acid")."""
    return tuple(term.strip().lower() for term in (text or "").split(",") if term.strip())


def matches(*, category: str, key_ingredients: str, categories: Sequence[str], terms: Sequence[str]) -> bool:
    """True if a product (category, key ingredients) is of one of `categories` or contains one of `terms`."""
    if category and category in categories:
        return True
    ingredients = (key_ingredients or "").lower()
    return any(term in ingredients for term in terms)


@dataclass(frozen=True)
class Side:
    categories: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()

    def takes(self, item: "Item") -> bool:
        return matches(
            category=item.category, key_ingredients=item.ingredients, categories=self.categories, terms=self.terms
        )


@dataclass(frozen=True)
class Rule:
    name: str
    first: Side
    second: Side
    advice: str = ""

    def forbids(self, a: "Item", b: "Item") -> bool:
        return (self.first.takes(a) and self.second.takes(b)) or (self.first.takes(b) and self.second.takes(a))


@dataclass(frozen=True)
class Item:
    """A step as the conflict check sees it (satisfies `schedule.Scheduled`)."""

    label: str
    slot: str
    frequency: str
    interval_days: int = 1
    offset_days: int = 0
    weekdays: str = ""
    category: str = ""
    ingredients: str = ""
    phases: tuple = ()


def item_of(step, phases: Sequence[schedule.Phase] = ()) -> Item:
    """An `Item` from a template or plan step (saved or not) and the phases it would have."""
    product = step.product if step.product_id else None
    return Item(
        label=step.title,
        slot=step.slot,
        frequency=step.frequency,
        interval_days=step.interval_days or 0,
        offset_days=step.offset_days or 0,
        weekdays=step.weekdays or "",
        category=product.category if product else "",
        ingredients=product.key_ingredients if product else "",
        phases=tuple(phases),
    )


def slots_meet(a: str, b: str) -> bool:
    return a == b or schedule.ANY_TIME in (a, b)


@dataclass(frozen=True)
class Clash:
    first: Item
    second: Item
    day: dt.date
    rule: Rule
    start: dt.date

    @property
    def slot(self) -> str:
        return self.first.slot if self.first.slot != schedule.ANY_TIME else self.second.slot

    def message(self, *, template: bool = False) -> str:
        """The admin's error: both steps, the slot and the date (or the day of the plan, for a template)."""
        slot = {schedule.MORNING: "morning", schedule.EVENING: "evening", schedule.ANY_TIME: "day"}[self.slot]
        # Weekday and month names through Django's formats, so they follow the active language.
        if template:
            day_number = (self.day - self.start).days + 1
            when = f"the {slot} of day {day_number} of a plan starting on a {date_format(self.start, 'l')}"
        else:
            when = f"the {slot} of {date_format(self.day, 'l j F Y')}"
        advice = f" {self.rule.advice}" if self.rule.advice else ""
        return (
            f"“{self.first.label}” and “{self.second.label}” would both be due on {when}: "
            f"the clinic's rule “{self.rule.name}” forbids that.{advice} "
            "Change a frequency, offset or ramp-up phase so they fall on different days."
        )


def first_clash(
    items: Sequence[Item],
    rules: Sequence[Rule],
    *,
    start: dt.date,
    end: dt.date | None,
    first_day: dt.date | None = None,
    days: int = WINDOW_DAYS,
) -> Clash | None:
    """The earliest date in first_day .. first_day + days - 1 on which two steps a rule forbids together
    are both due in slots that meet, or None.

    Pairs are found first, so only their steps' schedules are walked. On the
    same date, the pair listed first (by the items' order) is reported.
    """
    first_day = max(first_day or start, start)
    pairs = []
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            if not slots_meet(a.slot, b.slot):
                continue
            rule = next((rule for rule in rules if rule.forbids(a, b)), None)
            if rule is not None:
                pairs.append((a, b, rule))
    if not pairs:
        return None
    for n in range(days):
        day = first_day + dt.timedelta(days=n)
        if end is not None and day > end:
            return None
        due = {}
        for a, b, rule in pairs:
            for item in (a, b):
                if id(item) not in due:
                    due[id(item)] = schedule.is_due(item, day, start=start, end=end, phases=item.phases)
            if due[id(a)] and due[id(b)]:
                return Clash(first=a, second=b, day=day, rule=rule, start=start)
    return None


def window_days(items: Sequence[Item]) -> int:
    """The window to check: 90 days, plus the longest ramp-up, so a clash in the final phase shows up too."""
    ramp = max((sum(p.days or 0 for p in item.phases) for item in items), default=0)
    return WINDOW_DAYS + ramp


def plan_clash(items: Sequence[Item], rules: Sequence[Rule], *, start: dt.date, end: dt.date | None, today: dt.date):
    """The first clash of a plan from its start (or from today, for a plan already running)."""
    return first_clash(items, rules, start=start, end=end, first_day=max(start, today), days=window_days(items))


def template_clash(items: Sequence[Item], rules: Sequence[Rule], *, today: dt.date) -> Clash | None:
    """The first clash of a template whatever weekday a plan from it starts on (tried from `today` on)."""
    for n in range(7):
        start = today + dt.timedelta(days=n)
        clash = first_clash(items, rules, start=start, end=None, days=window_days(items))
        if clash is not None:
            return clash
    return None
