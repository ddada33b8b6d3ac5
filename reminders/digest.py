"""What a weekly digest says: last week's steps, encouragement or one tip, the next article, pauses coming.

The digest is a Reminder row like any other (slot "digest", planned in
reminders/planning.py, sent by reminders/sending.py under the same lease,
claim and grace rules). This module only gathers its content, all of it
about the row's own patient: their ticks, their plan's articles and their
procedures. `sending.build_message` turns it into the email, hiding any
condition name as it does for step reminders.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import prefetch_related_objects
from django.utils.translation import gettext_lazy as _

from education.models import Article
from education.reading import next_to_read
from portal.language import language_of
from routines.adherence import Adherence, adherence, prefetch_plans

from .models import Reminder

WEEK = 7
# From this share of last week's steps done, the digest encourages; below it, it offers one tip.
ON_TRACK_PERCENT = 80

# Practical, product-neutral tips for a week that slipped: one a week, in turn.
TIPS = (
    _("Keep your products where you will see them, for example next to your toothbrush."),
    _("Tick each step off in the portal as you do it, so the days that slip stand out."),
    _("If a reminder comes at a busy moment, move it to a time you are usually at home."),
    _("If a product stings or burns, call the clinic rather than quietly stopping it."),
    _("Doing the steps at the same point every day, like after brushing your teeth, makes them stick."),
)


@dataclass(frozen=True)
class ComingPause:
    """Steps a procedure pauses within the week after the digest: `summary` in the patient's words."""

    summary: str
    steps: tuple  # PlanStep


@dataclass(frozen=True)
class Digest:
    week: Adherence  # the 7 local days before the digest's date
    tip: str  # "" when the week went well (or nothing was due)
    article: Article | None  # the next of the plan's articles to read or understand, in the patient's language
    pauses: tuple[ComingPause, ...]

    @property
    def on_track(self) -> bool:
        return on_track(self.week)


def on_track(week: Adherence) -> bool:
    """Whether a week deserves encouragement: steps were due and most were done."""
    return week.due > 0 and week.percent >= ON_TRACK_PERCENT


def digest_for(reminder: Reminder) -> Digest:
    """The content of digest row `reminder` (loaded as `sending.load` does), in the active language."""
    patient, plan, day = reminder.patient, reminder.plan, reminder.local_date
    prefetch_related_objects([patient], prefetch_plans(day, days=WEEK))
    week = adherence(patient.adherence_plans, today=day, days=WEEK)
    # A week with nothing due gets neither praise nor a tip.
    tip = "" if on_track(week) or week.due == 0 else str(TIPS[day.isocalendar().week % len(TIPS)])
    # The plan's articles and its steps' (as the staff reading panel lists them), in the patient's language.
    articles = Article.objects.for_patient(patient, day, language_of(patient)).order_by("title", "pk")
    return Digest(week=week, tip=tip, article=next_to_read(patient, articles), pauses=coming_pauses(plan, day))


def coming_pauses(plan, day: dt.date) -> tuple[ComingPause, ...]:
    """Procedure pauses under way on `day` or starting in the week after it, one per procedure, soonest first."""
    by_hold: dict = {}
    for step, holds in plan.holds_by_step(day).items():
        for hold in holds:
            if hold.first <= day + dt.timedelta(days=WEEK) and hold.last >= day:
                by_hold.setdefault(hold, []).append(step)
    return tuple(
        ComingPause(summary=hold.summary(), steps=tuple(steps))
        for hold, steps in sorted(by_hold.items(), key=lambda item: (item[0].first, item[0].on))
    )
