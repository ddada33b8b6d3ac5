"""What the patient's pages show for one local date, each page's data from one call.

`today_for` answers the today page (`/`): the day's steps with their ticks and
cautions still to acknowledge, pauses for procedures, progress, the skin
check-in and the next seven days. `sheet_for` answers `/plan/`, the printable
page and the plan PDFs: every step with where its ramp-up stands and its next
pause. Both read the plan with a fixed number of queries, however many steps,
and return frozen values the templates only display; dates stay dates, so the
templates format them in the patient's language. A step's texts come in the
patient's language (`StepText`), with the "Why?" link to the article that
explains it: its topic joined to the steps' query, its version found for all
steps in one more query (`why_slugs`).
"""

import datetime as dt
import functools
from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import BigIntegerField, Q, QuerySet
from django.db.models.functions import Coalesce

from education.models import Article
from portal.language import language_of
from portal.models import Patient
from portal.reversing import cached_reverse

from . import schedule
from .models import Plan, PlanStep, SkinCheckIn

WEEK_DAYS = 7


class Slot(NamedTuple):
    """Morning, evening or any time, with its rows (a slot without rows is left out)."""

    slot: str
    label: str
    rows: tuple


def step_title(step: PlanStep, language: str) -> str:
    """The step's title as the patient reads it: its product's name, else its instructions in `language`."""
    return step.product.name if step.product_id else step.text_in("instructions", language)


def with_why(steps: QuerySet) -> QuerySet:
    """`steps` annotated with `why_topic`: the topic (original article) of the article that explains each step.

    The explaining article is the step's own, else its product's default. `why_slugs` then finds
    every step's published version in one query.
    """
    topic = Coalesce(
        "article__translation_of",
        "article",
        "product__default_article__translation_of",
        "product__default_article",
        output_field=BigIntegerField(),
    )
    return steps.annotate(why_topic=topic)


@functools.cache
def _explained_steps() -> QuerySet:
    """Plan steps `with_why`, built once for every page view: the annotation's joins never change, and a
    queryset is only a description until it is read (each page refines its own copy, e.g. `with_marks(day)`)."""
    return with_why(PlanStep.objects.all())


@functools.cache
def _due_steps() -> QuerySet:
    """The today page's steps, built once (as `_explained_steps`): `with_why` and `with_marks` but the day's ticks,
    which each page adds (`with_ticks_on`)."""
    return _explained_steps().with_acknowledgements()


@functools.cache
def _article_versions() -> QuerySet:
    """Published articles as (pk, original, language, slug) in no particular order, built once (as
    `_explained_steps`): `why_slugs` picks its topics' versions from them."""
    return Article.objects.published().order_by().values_list("pk", "translation_of", "language", "slug")


def why_slugs(steps, language: str) -> dict[int, str]:
    """{topic: slug} for the steps' `why_topic`s (loaded `with_why`): each topic's published version in
    `language`, else the original (as `Article.version_in`, published only). One query, or none."""
    topics = {step.why_topic for step in steps if step.why_topic is not None}
    if not topics:
        return {}
    versions = _article_versions().filter(Q(pk__in=topics) | Q(translation_of__in=topics))
    slugs, in_language = {}, set()
    for pk, original, version_language, slug in versions:
        topic = original or pk
        if version_language == language:
            slugs[topic] = slug
            in_language.add(topic)
        elif original is None and topic not in in_language:
            slugs[topic] = slug  # the original, until a version in `language` turns up
    return slugs


@dataclass(frozen=True)
class StepText:
    """A step's words in the patient's language (the English where no Spanish is written), and its "Why?" link."""

    title: str
    instructions: str
    caution: str
    area: str
    why_url: str  # the article explaining the step, or ""

    @classmethod
    def of(cls, step: PlanStep, language: str, slugs: dict[int, str]) -> "StepText":
        """Read from a step loaded `with_why`, with the `why_slugs` of its plan's steps."""
        slug = slugs.get(step.why_topic)
        return cls(
            title=step_title(step, language),
            instructions=step.text_in("instructions", language),
            caution=step.text_in("caution", language),
            area=step.text_in("area", language),
            why_url=cached_reverse("education:article-detail", slug) if slug else "",
        )


def _slots(by_slot: dict, row) -> tuple[Slot, ...]:
    """Slots in Morning, Evening, Any time order, each step made a row by `row(step)`."""
    return tuple(
        Slot(slot, label, tuple(row(step) for step in by_slot[slot]))
        for slot, label in schedule.SLOT_CHOICES
        if by_slot[slot]
    )


@dataclass(frozen=True)
class DueStep:
    """A step due today, as the today page shows it."""

    step: PlanStep
    text: StepText
    done: bool  # ticked today
    needs_ack: bool  # has a caution not yet acknowledged for this version of the plan
    progress: str  # where its ramp-up stands, or ""


@dataclass(frozen=True)
class Pause:
    """Steps paused today around one procedure."""

    reason: str
    restart_on: dt.date
    titles: tuple[str, ...]


@dataclass(frozen=True)
class ComingPause:
    """Steps a procedure pauses within the coming week."""

    hold: schedule.Hold
    titles: tuple[str, ...]


@dataclass(frozen=True)
class Glance:
    """One of the next seven days: the titles due in each slot, as [(slot label, "title, title")]."""

    day: dt.date
    slots: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Today:
    """The today page: the plan followed on `day` (None: `upcoming`, if any, starts later)."""

    day: dt.date
    plan: Plan | None
    upcoming: Plan | None = None
    name: str = ""  # the name of `plan` (else of `upcoming`) in the patient's language
    slots: tuple[Slot, ...] = ()  # of DueStep rows
    due_count: int = 0
    done_count: int = 0
    paused: tuple[Pause, ...] = ()
    coming: tuple[ComingPause, ...] = ()
    feeling: str = ""  # today's skin check-in (a SkinCheckIn.Feeling value), or ""
    week: tuple[Glance, ...] = ()

    @property
    def feeling_label(self) -> str:
        return SkinCheckIn.Feeling(self.feeling).label if self.feeling else ""

    @property
    def feelings(self) -> list[tuple[str, str, bool]]:
        """[(value, label, chosen today)] for the check-in buttons."""
        return [(value, label, value == self.feeling) for value, label in SkinCheckIn.Feeling.choices]


def today_for(*, patient: Patient, day: dt.date) -> Today:
    """What the patient's today page shows on their local date `day`.

    Without a running plan, only `upcoming` is looked up. Otherwise the plan
    comes with the day's check-in (`Plan.with_check_in_on`), its steps with their
    ticks and acknowledgements (`PlanStep.with_marks`) and their phases, and one
    `timetable` answers today and the week.
    """
    language = language_of(patient)
    plans = Plan.objects.with_check_in_on(day)
    plan = plans.current_for(patient, day, steps=_due_steps().with_ticks_on(day))
    if plan is None:
        upcoming = Plan.objects.upcoming_for(patient, day)
        name = upcoming.text_in("name", language) if upcoming else ""
        return Today(day=day, plan=None, upcoming=upcoming, name=name)
    timetable = plan.timetable()
    slugs = why_slugs(timetable.steps, language)
    slots = _slots(timetable.due_on(day), lambda step: _due_step(step, day, language, slugs))
    rows = [row for slot in slots for row in slot.rows]
    paused, coming = _pauses(timetable, day, language)
    return Today(
        day=day,
        plan=plan,
        name=plan.text_in("name", language),
        slots=slots,
        due_count=len(rows),
        done_count=sum(row.done for row in rows),
        paused=paused,
        coming=coming,
        feeling=plan.feeling or "",
        week=_week(timetable, day, language),
    )


def _due_step(step: PlanStep, day: dt.date, language: str, slugs: dict[int, str]) -> DueStep:
    """A step loaded `with_marks(day)` and `with_why`, as the today page shows it."""
    return DueStep(
        step=step,
        text=StepText.of(step, language, slugs),
        done=step.tick_id is not None,
        needs_ack=bool(step.caution) and step.acknowledgement_id is None,
        progress=step.progress_on(day),
    )


def _pauses(
    timetable: schedule.Timetable, day: dt.date, language: str
) -> tuple[tuple[Pause, ...], tuple[ComingPause, ...]]:
    """(pauses today, pauses starting within the week): steps paused for the same procedure go together."""
    paused, coming = {}, {}
    for step, holds in timetable.holds_from(day).items():
        hold = holds[0]
        if hold.covers(day):
            paused.setdefault((hold.reason(day), hold.resume_on), []).append(step_title(step, language))
        elif hold.first <= day + dt.timedelta(WEEK_DAYS):
            coming.setdefault(hold, []).append(step_title(step, language))
    return (
        tuple(Pause(reason, restart_on, tuple(titles)) for (reason, restart_on), titles in paused.items()),
        tuple(ComingPause(hold, tuple(titles)) for hold, titles in coming.items()),
    )


def _week(timetable: schedule.Timetable, day: dt.date, language: str) -> tuple[Glance, ...]:
    """The seven days after `day`, each with the titles due in each slot.

    Each step's title and each slot's label (in the active language) are read once for the week, not once a day.
    """
    titles = {step.pk: step_title(step, language) for step in timetable.steps}
    labels = [(slot, str(label)) for slot, label in schedule.SLOT_CHOICES]
    week = []
    for later in (day + dt.timedelta(n) for n in range(1, WEEK_DAYS + 1)):
        due = timetable.due_on(later)
        names = ((label, ", ".join(titles[step.pk] for step in due[slot])) for slot, label in labels)
        week.append(Glance(day=later, slots=tuple((label, joined) for label, joined in names if joined)))
    return tuple(week)


@dataclass(frozen=True)
class SheetStep:
    """A step of the whole plan, as `/plan/` and the printouts show it."""

    step: PlanStep
    text: StepText
    progress: str  # where its ramp-up stands, or ""
    hold_note: str  # its next pause for a procedure, in words, or ""


@dataclass(frozen=True)
class TickRow:
    """A row of the printed tick sheet: whether `step` is due on each of the sheet's days."""

    step: PlanStep
    text: StepText
    cells: tuple[bool, ...]


@dataclass(frozen=True)
class Sheet:
    """The whole plan the patient follows (or will follow) as of `day`: every step, due that day or not."""

    day: dt.date
    plan: Plan
    timetable: schedule.Timetable
    slots: tuple[Slot, ...]  # of SheetStep rows
    name: str  # the plan's name and note in the patient's language
    note: str

    def tick_days(self, count: int) -> list[dt.date]:
        return [self.day + dt.timedelta(n) for n in range(count)]

    def tick_rows(self, days: list[dt.date]) -> list[TickRow]:
        """Rows of the tick sheet for `days`: the steps that have a schedule (not "as needed"), in order.

        The same rule as the today page and reminders: phases and procedure holds included.
        """
        due_on = [{step.pk for steps in self.timetable.due_on(d).values() for step in steps} for d in days]
        return [
            TickRow(step=row.step, text=row.text, cells=tuple(row.step.pk in due for due in due_on))
            for slot in self.slots
            for row in slot.rows
            if self.timetable.phases.get(row.step.pk) or row.step.frequency != schedule.AS_NEEDED
        ]


def sheet_for(*, patient: Patient, day: dt.date) -> Sheet | None:
    """The plan the patient follows on local date `day`, else the next one to start, as a `Sheet`; or None."""
    language = language_of(patient)
    steps = _explained_steps()
    plan = Plan.objects.current_for(patient, day, steps=steps) or Plan.objects.with_steps(steps).upcoming_for(
        patient, day
    )
    if plan is None:
        return None
    timetable = plan.timetable()
    holds = timetable.holds_from(day)
    slugs = why_slugs(timetable.steps, language)

    def sheet_step(step: PlanStep) -> SheetStep:
        hold_note = holds[step][0].summary() if step in holds else ""
        return SheetStep(
            step=step, text=StepText.of(step, language, slugs), progress=step.progress_on(day), hold_note=hold_note
        )

    return Sheet(
        day=day,
        plan=plan,
        timetable=timetable,
        slots=_slots(plan.steps_by_slot(), sheet_step),
        name=plan.text_in("name", language),
        note=plan.text_in("note", language),
    )
