"""Schedule arithmetic: which steps are due on a local date, by slot.

Pure functions over plain values, so pages, reminders, handouts and adherence
all answer "what is due on date D" the same way. Dates are the patient's local
calendar dates; nothing here knows about clocks or time zones.
"""

import datetime as dt
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from django.utils.dates import WEEKDAYS_ABBR
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext_lazy, ngettext, pgettext, pgettext_lazy
from django.utils.translation import gettext as _

MORNING = "morning"
EVENING = "evening"
ANY_TIME = "any"
SLOTS = (MORNING, EVENING, ANY_TIME)
SLOT_CHOICES = [
    (MORNING, pgettext_lazy("slot", "Morning")),
    (EVENING, pgettext_lazy("slot", "Evening")),
    (ANY_TIME, pgettext_lazy("slot", "Any time")),
]

DAILY = "daily"
EVERY_N_DAYS = "every_n_days"
WEEKDAYS = "weekdays"
AS_NEEDED = "as_needed"
FREQUENCY_CHOICES = [
    (DAILY, gettext_lazy("Daily")),
    (EVERY_N_DAYS, gettext_lazy("Every N days")),
    (WEEKDAYS, gettext_lazy("Chosen weekdays")),
    (AS_NEEDED, gettext_lazy("As needed")),
]

WEEKDAY_NAMES = tuple(WEEKDAYS_ABBR[i] for i in range(7))  # Django's own "Mon" … "Sun", translated
WEEKDAY_CHOICES = [(str(i), name) for i, name in enumerate(WEEKDAY_NAMES)]


class Scheduled(Protocol):
    slot: str
    frequency: str
    interval_days: int
    offset_days: int
    weekdays: str  # digits, Monday = "0", e.g. "03" for Mon and Thu


@dataclass(frozen=True)
class Phase:
    """One stage of a ramp-up: a frequency kept for `days` days.

    A step's phases run back to back from the plan's start date; the last one
    has `days=None` and runs until the plan ends. "Every N days" counts from
    the phase's own first day, so an offset means the same thing in every phase.
    """

    frequency: str
    interval_days: int = 1
    offset_days: int = 0
    weekdays: str = ""
    days: int | None = None


@dataclass(frozen=True)
class PhaseSpan:
    """Where a phase falls for a plan: its position, its first day and last day (None: open-ended)."""

    index: int
    phase: Phase
    first: dt.date
    last: dt.date | None


@dataclass(frozen=True)
class Hold:
    """A step is paused on local dates `first`..`last` (inclusive) around a procedure `what` on date `on`."""

    first: dt.date
    last: dt.date
    what: str
    on: dt.date
    what_es: str = ""  # the procedure's Spanish name, if the clinic wrote one

    def covers(self, day: dt.date) -> bool:
        return self.first <= day <= self.last

    @property
    def name(self) -> str:
        """The procedure's name in the active language (English when no Spanish name was written)."""
        return self.what_es if self.what_es and get_language() == "es" else self.what

    def reason(self, day: dt.date) -> str:
        """Why the step is paused on `day`, in the patient's words: "Paused before your peel on 12 May"."""
        values = {"what": self.name, "when": _day_month(self.on)}
        if day < self.on:
            return _("Paused before your %(what)s on %(when)s") % values
        if day == self.on:
            return _("Paused for your %(what)s today") % values
        return _("Paused after your %(what)s on %(when)s") % values

    @property
    def resume_on(self) -> dt.date:
        return self.last + dt.timedelta(days=1)

    def summary(self) -> str:
        """ "Paused 5–14 May for your chemical peel on 12 May; restart on 15 May"."""
        return _("Paused %(dates)s for your %(what)s on %(when)s; restart on %(restart)s") % {
            "dates": _date_range(self.first, self.last),
            "what": self.name,
            "when": _day_month(self.on),
            "restart": _day_month(self.resume_on),
        }


@dataclass(frozen=True)
class Freeze:
    """The ramp-up clock stops on local dates `first`..`last` (inclusive; `last` None: until further notice).

    While a patient's skin is irritated a ramping step stays at the phase it is in
    on `first` instead of moving on to a more frequent one; the phases after it
    start later by the days stopped. Frequencies keep their rhythm meanwhile ("every
    4 days" still counts from its phase's first day); only the move to the next
    phase waits.
    """

    first: dt.date
    last: dt.date | None = None


@dataclass(frozen=True)
class Timetable:
    """A plan's steps (in order) with their ramp-up phases and holds, keyed by step `pk`: any day's due steps follow.

    `freezes` stop every ramping step's phase clock (the patient's irritation flags, see `Freeze`).
    """

    steps: tuple
    start: dt.date
    end: dt.date | None
    phases: Mapping[Hashable, Sequence[Phase]]
    holds: Mapping[Hashable, Sequence[Hold]]
    freezes: Sequence[Freeze] = ()

    def due_on(self, day: dt.date) -> dict:
        """{slot: [steps due on `day`, in order]}, every slot present (see `due_by_slot`)."""
        return due_by_slot(
            self.steps,
            day,
            start=self.start,
            end=self.end,
            phases=self.phases,
            holds=self.holds,
            freezes=self.freezes,
        )

    def holds_from(self, day: dt.date) -> dict:
        """{step: [Hold]} for the steps paused on `day` or later, soonest first."""
        upcoming = {}
        for step in self.steps:
            holds = sorted((h for h in self.holds.get(step.pk, ()) if h.last >= day), key=lambda h: h.first)
            if holds:
                upcoming[step] = holds
        return upcoming


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


def phase_errors(lengths: Sequence[int | None]) -> dict[int, str]:
    """Return {phase index: message} for phase lengths that do not make a ramp-up.

    Every phase but the last needs a length; the last runs until the plan ends.
    """
    errors = {}
    for n, days in enumerate(lengths):
        last = n == len(lengths) - 1
        if last and days is not None:
            errors[n] = "The last phase runs until the plan ends: leave its length empty."
        elif not last and (days is None or days < 1):
            errors[n] = "Say how many days this phase lasts (e.g. 14 for two weeks); only the last phase is open-ended."
    return errors


def merged(freezes: Iterable[Freeze]) -> list[Freeze]:
    """`freezes` in date order, overlapping or touching ones made one (an open-ended one ends the list)."""
    out = []
    for freeze in sorted(freezes, key=lambda f: f.first):
        if out and (out[-1].last is None or freeze.first <= out[-1].last + dt.timedelta(days=1)):
            last = None if out[-1].last is None or freeze.last is None else max(out[-1].last, freeze.last)
            out[-1] = Freeze(out[-1].first, last)
        else:
            out.append(freeze)
    return out


def _phase_last(first: dt.date, days: int, freezes: Sequence[Freeze]) -> dt.date | None:
    """The date a phase starting on `first` has run `days` unstopped days by (None: stopped for good before).

    `freezes` are `merged`: each one met within the phase adds its stopped days.
    """
    last = first + dt.timedelta(days=days - 1)
    for freeze in freezes:
        if freeze.last is not None and freeze.last < first:
            continue
        if freeze.first > last:
            break
        if freeze.last is None:
            return None
        last += freeze.last - max(freeze.first, first) + dt.timedelta(days=1)
    return last


def phase_spans(phases: Sequence[Phase], *, start: dt.date, freezes: Iterable[Freeze] = ()) -> list[PhaseSpan]:
    """The phases laid out on the calendar from `start`, back to back.

    A phase without a length (or the last phase, whatever its length) is open-ended.
    A phase runs `days` days the clock does not stop on (see `Freeze`): one that an
    open-ended freeze stops is open-ended too, and the phases after it are left out
    (nobody knows yet when they start).
    """
    freezes = merged(freezes)
    spans, first = [], start
    for n, phase in enumerate(phases):
        if phase.days is None or n == len(phases) - 1:
            spans.append(PhaseSpan(n, phase, first, None))
            break
        last = _phase_last(first, phase.days, freezes)
        spans.append(PhaseSpan(n, phase, first, last))
        if last is None:
            break
        first = last + dt.timedelta(days=1)
    return spans


def phase_on(
    phases: Sequence[Phase], day: dt.date, *, start: dt.date, freezes: Iterable[Freeze] = ()
) -> PhaseSpan | None:
    """The phase `day` falls in (None before `start` or without phases)."""
    if day < start:
        return None
    for span in phase_spans(phases, start=start, freezes=freezes):
        if span.last is None or day <= span.last:
            return span
    return None  # pragma: no cover - the last span is open-ended


def held_span(phases: Sequence[Phase], *, start: dt.date, freezes: Iterable[Freeze] = ()) -> PhaseSpan | None:
    """The phase an open-ended freeze keeps the step at (not the last phase: that one runs on anyway), or None."""
    spans = phase_spans(phases, start=start, freezes=freezes)
    held = spans[-1] if spans else None
    return held if held is not None and held.index < len(phases) - 1 and held.phase.days is not None else None


def _follows(rule: Scheduled | Phase, day: dt.date, since: dt.date) -> bool:
    """True if a frequency counted from `since` falls on `day` (day >= since)."""
    if rule.frequency == DAILY:
        return True
    if rule.frequency == EVERY_N_DAYS:
        return rule.interval_days >= 1 and (day - since).days % rule.interval_days == rule.offset_days
    if rule.frequency == WEEKDAYS:
        return str(day.weekday()) in (rule.weekdays or "")
    return False  # as needed: never due, never reminded


def is_due(
    step: Scheduled,
    day: dt.date,
    *,
    start: dt.date,
    end: dt.date | None,
    phases: Sequence[Phase] = (),
    holds: Sequence[Hold] = (),
    freezes: Iterable[Freeze] = (),
) -> bool:
    """True if `step` is due on local date `day` of a plan running start..end (inclusive).

    With `phases`, the phase `day` falls in decides (`freezes` keep a phase going
    longer) and the step's own frequency is ignored. A `hold` covering `day`
    makes the step not due.
    """
    if day < start or (end is not None and day > end):
        return False
    if any(hold.covers(day) for hold in holds):
        return False
    if phases:
        span = phase_on(phases, day, start=start, freezes=freezes)
        return _follows(span.phase, day, span.first)
    return _follows(step, day, start)


def due_by_slot(
    steps: Iterable[Scheduled],
    day: dt.date,
    *,
    start: dt.date,
    end: dt.date | None,
    phases: Mapping[Hashable, Sequence[Phase]] | None = None,
    holds: Mapping[Hashable, Sequence[Hold]] | None = None,
    freezes: Sequence[Freeze] = (),
) -> dict:
    """Return {slot: [steps due on `day`, in the given order]} with every slot present.

    `phases` and `holds`, when given, map a step's `pk` to its ramp-up phases
    and the holds that pause it; steps missing from them have none. `freezes`
    stop the phase clock of every ramping step.
    """
    freezes = merged(freezes)
    due = {slot: [] for slot in SLOTS}
    for step in steps:
        key = getattr(step, "pk", None)
        step_phases = phases.get(key, ()) if phases else ()
        step_holds = holds.get(key, ()) if holds else ()
        if is_due(step, day, start=start, end=end, phases=step_phases, holds=step_holds, freezes=freezes):
            due[step.slot].append(step)
    return due


# --- Plain words ------------------------------------------------------------


# Whole phrases per kind of rule and slot, not a slot word slotted into a sentence: Spanish says
# "todas las noches" but "cada dos días".
_EVERY, _EVERY_OTHER, _EVERY_N, _ON_WEEKDAYS = "every", "every other", "every n", "on weekdays"
_PHRASES = {
    (_EVERY, MORNING): gettext_lazy("every morning"),
    (_EVERY, EVENING): gettext_lazy("every evening"),
    (_EVERY, ANY_TIME): gettext_lazy("every day"),
    (_EVERY_OTHER, MORNING): gettext_lazy("every other morning"),
    (_EVERY_OTHER, EVENING): gettext_lazy("every other evening"),
    (_EVERY_OTHER, ANY_TIME): gettext_lazy("every other day"),
    (_EVERY_N, MORNING): gettext_lazy("every %(days)s days (morning)"),
    (_EVERY_N, EVENING): gettext_lazy("every %(days)s days (evening)"),
    (_EVERY_N, ANY_TIME): gettext_lazy("every %(days)s days"),
    # Translators: %(days)s is a list of weekdays, e.g. "Mon, Thu mornings".
    (_ON_WEEKDAYS, MORNING): gettext_lazy("%(days)s mornings"),
    (_ON_WEEKDAYS, EVENING): gettext_lazy("%(days)s evenings"),
    (_ON_WEEKDAYS, ANY_TIME): "%(days)s",
}


def _rule_words(rule: Scheduled | Phase, slot: str) -> str:
    """A frequency in words, lower case where a sentence may continue it: "every other evening"."""
    if rule.frequency == DAILY or (rule.frequency == EVERY_N_DAYS and rule.interval_days == 1):
        return str(_PHRASES[_EVERY, slot])
    if rule.frequency == EVERY_N_DAYS:
        if rule.interval_days == 2:
            return str(_PHRASES[_EVERY_OTHER, slot])
        return str(_PHRASES[_EVERY_N, slot]) % {"days": rule.interval_days}
    if rule.frequency == WEEKDAYS:
        names = ", ".join(
            str(WEEKDAY_NAMES[int(d)]) for d in sorted(set(rule.weekdays or "")) if d.isdigit() and d < "7"
        )
        return str(_PHRASES[_ON_WEEKDAYS, slot]) % {"days": names}
    return _("as needed")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def duration_words(days: int) -> str:
    """ "2 weeks", "1 week", "10 days"."""
    if days % 7 == 0:
        weeks = days // 7
        return ngettext("%(count)s week", "%(count)s weeks", weeks) % {"count": weeks}
    return ngettext("%(count)s day", "%(count)s days", days) % {"count": days}


def _day_month(day: dt.date) -> str:
    """ "12 May", through Django's localisation (the month in the active language)."""
    # Translators: a date format (Django's `date` filter letters) for a day and month, e.g. "12 May".
    return date_format(day, pgettext("date format", "j F"))


def _date_range(first: dt.date, last: dt.date) -> str:
    """ "5–14 May", "28 April – 3 May", "12 May"."""
    if first == last:
        return _day_month(first)
    if (first.year, first.month) == (last.year, last.month):
        return f"{date_format(first, 'j')}–{_day_month(last)}"
    return f"{_day_month(first)} – {_day_month(last)}"


def describe(
    step: Scheduled, phases: Sequence[Phase] = (), *, start: dt.date | None = None, freezes: Iterable[Freeze] = ()
) -> str:
    """The step's frequency in plain words: "Every other evening", "Mon, Wed, Fri".

    With phases: "Mon, Thu evenings for 2 weeks, then every other evening for 2 weeks, then every evening".
    While an open-ended freeze holds the ramp (phases from the plan's `start`, see `held_span`), from the
    held phase on: "Every 4 days (evening) until your skin settles, then every other evening for 2 weeks, then …".
    """
    if not phases:
        return _capital(_rule_words(step, step.slot))
    held = held_span(phases, start=start, freezes=freezes) if start is not None else None
    first = held.index if held else 0
    parts = []
    for n in range(first, len(phases)):
        phase = phases[n]
        words = _rule_words(phase, step.slot)
        if held and n == first:
            # Translators: a ramp-up phase kept while the patient's skin is irritated, e.g. "every 4 days until
            # your skin settles" (the next phases may follow, after ", then").
            parts.append(_("%(frequency)s until your skin settles") % {"frequency": words})
        elif phase.days is None or n == len(phases) - 1:
            parts.append(words)
            break
        else:
            # Translators: a ramp-up phase, e.g. "every other evening for 2 weeks".
            duration = duration_words(phase.days)
            parts.append(_("%(frequency)s for %(duration)s") % {"frequency": words, "duration": duration})
    return _capital(_(", then ").join(parts))


def _stopped_days(first: dt.date, before: dt.date, freezes: Iterable[Freeze]) -> int:
    """How many dates from `first` up to (not including) `before` the freezes stop the clock on."""
    stopped = 0
    for freeze in merged(freezes):
        last = before - dt.timedelta(days=1) if freeze.last is None else min(freeze.last, before - dt.timedelta(days=1))
        stopped += max(0, (last - max(freeze.first, first)).days + 1)
    return stopped


def progress(
    step: Scheduled, phases: Sequence[Phase], day: dt.date, *, start: dt.date, freezes: Iterable[Freeze] = ()
) -> str:
    """Where a ramping step stands on `day`, in the patient's words.

    E.g. "Week 3 of 4: every other evening; every evening from 12 May", the weeks
    counted on the ramp's own clock (days a freeze stopped it do not count; the
    next phase's date is the real, later one). While an open-ended freeze holds
    it before its last phase: "Staying at every 4 days (evening) until your skin
    settles". Empty for a step without phases.
    """
    if not phases:
        return ""
    if day < start:
        frequency = describe(step, phases, start=start, freezes=freezes)
        return _("From %(date)s: %(frequency)s") % {"date": _day_month(start), "frequency": frequency}
    freezes = merged(freezes)
    spans = phase_spans(phases, start=start, freezes=freezes)
    span = next(span for span in spans if span.last is None or day <= span.last)
    words = _rule_words(span.phase, step.slot)
    if span.last is None:
        if span.index < len(phases) - 1 and span.phase.days is not None:
            # Translators: e.g. "Staying at every 4 days (evening) until your skin settles": the ramp-up waits at
            # this frequency while the patient's skin is irritated, until the dermatologist has looked at it.
            return _("Staying at %(frequency)s until your skin settles") % {"frequency": words}
        if span.index == 0:
            return _capital(words)
        return _("%(frequency)s since %(date)s (ramp-up done)") % {
            "frequency": _capital(words),
            "date": _day_month(span.first),
        }
    ramp_days = (phase_spans(phases, start=start)[-1].first - start).days
    elapsed = (day - start).days - _stopped_days(start, day, freezes)
    if ramp_days % 7 == 0:
        where = _("Week %(week)s of %(weeks)s") % {"week": elapsed // 7 + 1, "weeks": ramp_days // 7}
    else:
        where = _("Day %(day)s of %(days)s") % {"day": elapsed + 1, "days": ramp_days}
    following = spans[span.index + 1]
    # Translators: e.g. "Week 3 of 4: every other evening; every evening from 12 May".
    return _("%(where)s: %(frequency)s; %(next)s from %(date)s") % {
        "where": where,
        "frequency": words,
        "next": _rule_words(following.phase, step.slot),
        "date": _day_month(following.first),
    }
