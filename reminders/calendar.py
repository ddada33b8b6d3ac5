"""The patient's reminder calendar feed (iCalendar, RFC 5545).

One recurring daily event per plan and slot (morning, evening) at the
patient's reminder time in their own zone (TZID plus a VTIMEZONE), with an
alarm at that time. The description lists the steps and how often each is
due; like emails, it never names the plan or a condition, because calendars
get shared and synced to places a clinic does not control.
"""

import datetime as dt
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.models import Patient
from routines import schedule
from routines.models import Plan

from .planning import SLOTS, local_due_at, reminder_time
from .sending import condition_names, safe_step_names

EVENT_MINUTES = 10
# Whole titles, not a slot word in a sentence: Spanish puts the slot after "rutina".
EVENT_TITLES = {
    schedule.MORNING: gettext_lazy("Morning skin care routine"),
    schedule.EVENING: gettext_lazy("Evening skin care routine"),
}


def build_calendar(patient: Patient, *, now: dt.datetime) -> bytes:
    """The ICS bytes for `patient`'s active and upcoming plans at instant `now`, in the active language.

    Callers activate the patient's language (`translation.override(language_of(patient))`).
    """
    today = patient.local_today(now)
    tz = patient.tz
    host = urlsplit(settings.PORTAL_BASE_URL).hostname or "portal"
    hidden = condition_names()

    cal = icalendar.Calendar()
    cal.add("prodid", f"-//{settings.CLINIC_NAME}//Skin care reminders//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", _("Skin care routine"))
    cal.add("x-wr-timezone", patient.time_zone)

    plans = (
        Plan.objects.filter(patient=patient, status=Plan.Status.ACTIVE)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .prefetch_related(*Plan.schedule_prefetches())  # steps, phases, holds, flags: each step's wording
        .order_by("start_date", "pk")
    )
    for plan in plans:
        by_slot = plan.steps_by_slot()
        for slot in SLOTS:
            steps = [step for step in by_slot[slot] if step.frequency != schedule.AS_NEEDED]
            if not steps:
                continue
            at = reminder_time(patient, slot)
            names = safe_step_names(steps, hidden)
            lines = [f"- {name} ({step.frequency_text.lower()})" for name, step in zip(names, steps, strict=True)]
            label = str(dict(schedule.SLOT_CHOICES)[slot])
            title = str(EVENT_TITLES[slot])

            event = icalendar.Event()
            event.add("uid", f"plan-{plan.pk}-{slot}@{host}")
            event.add("dtstamp", now)
            event.add("summary", title)
            event.add("dtstart", dt.datetime.combine(plan.start_date, at, tzinfo=tz))
            event.add("duration", dt.timedelta(minutes=EVENT_MINUTES))
            rule = {"freq": "daily"}
            if plan.end_date:
                # RFC 5545: with a TZID start, UNTIL must be in UTC.
                rule["until"] = local_due_at(plan.end_date, at, tz)
            event.add("rrule", rule)
            event.add(
                "description",
                "\n".join(
                    [
                        _("Your %(slot)s steps:") % {"slot": label.lower()},
                        *lines,
                        "",
                        _("Open the portal: %(url)s") % {"url": f"{settings.PORTAL_BASE_URL}/"},
                    ]
                ),
            )
            event.add("url", settings.PORTAL_BASE_URL + "/")

            alarm = icalendar.Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", title)
            alarm.add("trigger", dt.timedelta(0))
            event.add_component(alarm)
            cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()
