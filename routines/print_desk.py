"""The front desk's admin home: find a patient or an article and print, or email an invitation.

One search box takes a name, a chart number or a date of birth. Dates of birth are
read in the forms staff type at a US clinic's counter (`DATE_FORMATS`: 1984-03-05,
03/05/1984 month first, 5 March 1984, March 5, 1984); something shaped like a date
that is not a real one ("31/02/1990", "03/05/84") is answered with a clear message
and no search. Below it, today's and tomorrow's procedures (the clinic's dates) with
a link to print each patient's plan, which shows the pause.

The desk sees what printing needs and nothing clinical: names, chart numbers, dates
of birth, portal status, procedure names and their pause dates; never skin check-ins,
adherence or a plan's steps. The printouts themselves (PDF views) log each print.
"""

import datetime as dt
import re
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from education.models import Article
from portal.invitations import issue_invitation, send_invitation, send_password_reset
from portal.models import Invitation, InvitationRefused, Patient

from .models import Plan, Procedure

LIMIT = 20
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y")
DATE_HELP = "1984-03-05, 03/05/1984 (month first) or 5 March 1984"
MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec"
# Shaped like a date: digits split by - / . ; or a day, a month word and a year, either way round.
DATE_SHAPE = re.compile(
    rf"^(\d{{1,4}}[-/.]\d{{1,2}}[-/.]\d{{1,4}}"
    rf"|\d{{1,2}}\s+({MONTHS})[a-z]*\.?,?\s+\d{{1,4}}"
    rf"|({MONTHS})[a-z]*\.?\s+\d{{1,2}},?\s+\d{{1,4}})$",
    re.IGNORECASE,
)


class NotADate(ValueError):
    """The search text looks like a date of birth but is not one; the message says how to type it."""


def parse_date_of_birth(text: str, today: dt.date) -> dt.date | None:
    """The date of birth typed in `text`, or None if `text` does not look like a date (a name, a chart number).

    Raises NotADate for text shaped like a date that is no real date in `DATE_FORMATS`, or a date after `today`.
    """
    text = " ".join(text.split())
    if not DATE_SHAPE.match(text):
        return None
    # "Mar." and "Sept" as staff abbreviate them; strptime knows "Mar" and "Sep".
    plain = re.sub(r"\bsept\b", "sep", re.sub(r"(?<=[a-z])\.", "", text, flags=re.IGNORECASE), flags=re.IGNORECASE)
    for pattern in DATE_FORMATS:
        try:
            day = dt.datetime.strptime(plain, pattern).date()
        except ValueError:
            continue
        if day > today:
            raise NotADate(f"“{text}” is in the future: a date of birth must be {today:%Y-%m-%d} or earlier.")
        return day
    raise NotADate(f"“{text}” is not a date we can read. Type a date of birth as {DATE_HELP}.")


def find_patients(text: str, *, today: dt.date, born: dt.date | None = None):
    """Patients born on `born` if given (`parse_date_of_birth(text)`), else whose chart number (exactly,
    any case) or names match `text`: every word must start a first or last name ("ana gar" finds Ana García).

    Each comes with `has_plan` (a plan to print: active, running on local date `today` or starting
    later) and `open_invitation` (an invitation letter to print).
    """
    if born is not None:
        matches = Q(date_of_birth=born)
    else:
        words = text.split()
        matches = Q(chart_number__iexact=text.strip())
        if words:
            names = Q()
            for word in words:
                names &= Q(user__first_name__istartswith=word) | Q(user__last_name__istartswith=word)
            matches |= names
    running = Plan.objects.active_between(today - dt.timedelta(days=1), None).filter(patient=OuterRef("pk"))
    letters = Invitation.objects.unexpired().filter(patient=OuterRef("pk"))
    return (
        Patient.objects.filter(matches)
        .select_related("user")
        .annotate(has_plan=Exists(running), open_invitation=Exists(letters))
        .order_by("user__last_name", "user__first_name", "pk")
    )


def find_articles(text: str):
    """Published articles matching `text` (title, summary, body or condition: `Article.objects.search`), by title."""
    return Article.objects.published().search(text).only("pk", "title", "slug", "language").order_by("title")


def procedures_on(days: list[dt.date]):
    """Procedures booked on `days` with their patients and types, and `has_plan` as in `find_patients`."""
    running = Plan.objects.active_between(min(days) - dt.timedelta(days=1), None).filter(patient=OuterRef("patient"))
    return (
        Procedure.objects.filter(date__in=days)
        .select_related("patient__user", "type")
        .annotate(has_plan=Exists(running))
        .order_by("date", "patient__user__last_name", "pk")
    )


def print_desk_view(request, context: dict):
    """GET: the search and the procedures; POST: issue/email an invitation or email a reset link, then back."""
    if request.method == "POST":
        return _invitation_action(request)
    user = request.user
    today = timezone.localdate()  # the clinic's date (TIME_ZONE is CLINIC_TIME_ZONE)
    tomorrow = today + dt.timedelta(days=1)
    query = request.GET.get("q", "").strip()[:100]
    context.update(
        query=query,
        date_help=DATE_HELP,
        today=today,
        tomorrow=tomorrow,
        can_print=user.has_perm("portal.print_handout"),
        can_invite=user.has_perm("portal.invite_patient"),
        can_print_articles=user.has_perm("education.view_article"),
        patients=None,  # None: not searched (or not allowed); [] : nothing found
        articles=None,
        procedures=None,
    )
    if query:
        try:
            born = parse_date_of_birth(query, today)
        except NotADate as error:
            context["search_error"] = str(error)
        else:
            patients = list(find_patients(query, today=today, born=born)[: LIMIT + 1])
            context["patients"], context["more_patients"] = patients[:LIMIT], len(patients) > LIMIT
            if context["can_print_articles"] and born is None:
                articles = list(find_articles(query)[: LIMIT + 1])
                context["articles"], context["more_articles"] = articles[:LIMIT], len(articles) > LIMIT
    if user.has_perm("routines.view_procedure"):
        context["procedures"] = list(procedures_on([today, tomorrow])[: LIMIT * 5])
    return TemplateResponse(request, "admin/routines/print_desk.html", context)


def _invitation_action(request):
    """Issue an invitation and open its letter (a PDF, to print), email one, or email an active patient
    a password reset link.

    The rules are portal.invitations' (no invitation for an account with a password); this only
    chooses which and says what happened, back on the print desk with the same search.
    """
    if not request.user.has_perm("portal.invite_patient"):
        raise PermissionDenied
    patient_id, action = request.POST.get("patient", ""), request.POST.get("action", "")
    if not patient_id.isdigit() or action not in ("print-invitation", "email-invitation", "password-reset"):
        return HttpResponseBadRequest("Choose a patient and an action.")
    patient = get_object_or_404(Patient.objects.select_related("user"), pk=int(patient_id))
    back = reverse("admin:print-desk")
    query = request.POST.get("q", "").strip()[:100]
    if query:
        back = f"{back}?{urlencode({'q': query})}"
    if action == "password-reset":
        if send_password_reset(patient=patient, request=request):
            messages.success(request, f"Emailed {patient.full_name} a password reset link.")
        else:
            messages.error(request, f"{patient.full_name} has no portal password or no email: send an invitation.")
        return redirect(back)
    if action == "email-invitation" and not patient.user.email:
        messages.error(request, f"{patient.full_name} has no email address: print the invitation instead.")
        return redirect(back)
    try:
        if action == "print-invitation":
            issue_invitation(patient=patient, request=request)
        else:
            send_invitation(patient=patient, request=request)
    except InvitationRefused as refused:
        messages.error(request, str(refused))
        return redirect(back)
    if action == "print-invitation":
        return redirect("handouts:patient-invite", patient.pk)  # straight to the letter, ready to print
    messages.success(request, f"Emailed {patient.full_name} a portal invitation.")
    return redirect(back)
