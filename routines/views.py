import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from education.models import Article
from portal import handouts
from portal.models import AccessLog, Patient
from portal.redirects import safe_next
from portal.reversing import cached_reverse

from . import schedule
from .checkins import record_check_in
from .forms import SkinCheckInForm
from .models import CautionAcknowledgement, Plan, PlanStep, SkinCheckIn, StepCheck

GRID_DAYS = 14
WEEK_DAYS = 7


def get_patient_for_user(request) -> Patient:
    """The logged-in user's Patient record (loaded with the user, see portal.backends); 404 for staff."""
    try:
        return request.user.patient
    except Patient.DoesNotExist:
        raise Http404("This account has no patient record.") from None


def _get_step_for_user(request, pk) -> PlanStep:
    """The user's own step of a plan running today; 404 for anyone else's or a stopped plan's."""
    step = get_object_or_404(PlanStep.objects.select_related("plan__patient"), pk=pk, plan__patient__user=request.user)
    if not step.plan.is_running_on(step.plan.patient.local_today()):
        raise Http404("This step's plan is not running today.")
    return step


def _plans_with_articles():
    return Plan.objects.prefetch_related(Prefetch("articles", queryset=Article.objects.published()))


def _current_or_upcoming(patient: Patient, day: dt.date, queryset=None) -> Plan | None:
    queryset = queryset if queryset is not None else Plan.objects.all()
    return queryset.current_for(patient, day) or queryset.with_steps().upcoming_for(patient, day)


def _slots(by_slot: dict) -> list[tuple[str, str, list]]:
    """[(slot, label, steps)] in Morning, Evening, Any time order, empty slots dropped."""
    return [(slot, label, by_slot[slot]) for slot, label in schedule.SLOT_CHOICES if by_slot[slot]]


@never_cache
@login_required
def today(request):
    if request.user.is_staff:
        return redirect("admin:index")
    patient = get_patient_for_user(request)
    day = patient.local_today()
    plan = Plan.objects.current_for(patient, day)
    context = {"patient": patient, "today": day, "plan": plan}
    if plan is None:
        upcoming = context["upcoming"] = Plan.objects.upcoming_for(patient, day)
        if upcoming is not None:
            what = f"Today: upcoming {upcoming.name} v{upcoming.version}"
            AccessLog.objects.record(request, patient=patient, action=AccessLog.VIEW, what=what)
        return render(request, "routines/no_plan.html", context)

    due = plan.steps_due_on(day)
    due_steps = [step for steps in due.values() for step in steps]
    ticked = StepCheck.objects.done_step_ids(plan, day)
    cautions = any(step.caution for step in due_steps)
    acknowledged = CautionAcknowledgement.objects.acknowledged_step_ids(plan) if cautions else set()
    # The URL pattern is fixed, so build each step's form actions without a reverse() per step.
    step_url = cached_reverse("routines:check-step", 0).removesuffix("0/check/")
    for step in due_steps:
        step.done = step.pk in ticked
        step.check_url = f"{step_url}{step.pk}/check/"
        step.needs_ack = bool(step.caution) and step.pk not in acknowledged
        step.ack_url = f"{step_url}{step.pk}/acknowledge/"
        step.progress = step.progress_on(day)
    AccessLog.objects.record(
        request, patient=patient, action=AccessLog.VIEW, what=f"Today: {plan.name} v{plan.version}"
    )
    paused, coming = _holds_for_today(plan, day)
    feeling = SkinCheckIn.objects.feeling_on(patient, day)
    context.update(
        today_label=_long_date(day),
        feeling=SkinCheckIn.Feeling(feeling).label if feeling else "",
        feelings=[(value, label, value == feeling) for value, label in SkinCheckIn.Feeling.choices],
        paused=paused,
        coming_holds=coming,
        slots=_slots(due),
        done_count=sum(step.done for step in due_steps),
        due_count=len(due_steps),
        week=[
            {
                "label": _short_date(d["date"]),
                "slots": [(label, ", ".join(s.title for s in steps)) for _, label, steps in _slots(d["due"])],
            }
            for d in plan.days(day + dt.timedelta(1), WEEK_DAYS)
        ],
    )
    return render(request, "routines/today.html", context)


def _short_date(day: dt.date) -> str:
    """A day as the 7-day glance shows it: "Thu 3 Dec".

    Formatted here because Django's `date` filter costs ~50 µs a call: seven of them were a
    sixth of the today page's rendering. The portal's pages are English-only.
    """
    return f"{day:%a} {day.day} {day:%b}"


def _long_date(day: dt.date) -> str:
    """A day as the today page's heading shows it: "Thursday, 3 December" (see `_short_date`)."""
    return f"{day:%A}, {day.day} {day:%B}"


def _holds_for_today(plan: Plan, day: dt.date) -> tuple[list, list]:
    """([(reason, restart date, [step titles])] paused today, [(hold, [step titles])] pausing within a week).

    Steps paused for the same procedure are listed together.
    """
    paused, coming = {}, {}
    for step, holds in plan.holds_by_step(day).items():
        hold = holds[0]
        if hold.covers(day):
            paused.setdefault((hold.reason(day), hold.resume_on), []).append(step.title)
        elif hold.first <= day + dt.timedelta(WEEK_DAYS):
            coming.setdefault(hold, []).append(step.title)
    return [(*key, titles) for key, titles in paused.items()], list(coming.items())


def _note_holds(plan: Plan, day: dt.date) -> None:
    """Put each step's next pause in words on `step.hold_note` (plan page and handouts)."""
    holds = plan.holds_by_step(day)
    for step in plan.steps.all():
        step.hold_note = holds[step][0].summary() if step in holds else ""


@never_cache
@login_required
def plan_detail(request):
    if request.user.is_staff:
        return redirect("admin:index")
    patient = get_patient_for_user(request)
    day = patient.local_today()
    plan = _current_or_upcoming(patient, day, _plans_with_articles())
    context = {"patient": patient, "today": day, "plan": plan}
    if plan is None:
        return render(request, "routines/no_plan.html", context)
    AccessLog.objects.record(request, patient=patient, action=AccessLog.VIEW, what=f"Plan: {plan.name} v{plan.version}")
    for step in plan.steps.all():
        step.progress = step.progress_on(day)
    _note_holds(plan, day)
    context["slots"] = _slots(plan.steps_by_slot())
    return render(request, "routines/plan.html", context)


def _back_to_step(request, step: PlanStep):
    """Redirect to the page the form was on (never off-site), at the step."""
    return redirect(f"{safe_next(request, reverse('home'))}#step-{step.pk}")


@login_required
@require_POST
def check_step(request, step_id):
    """Toggle today's tick on a step, then go back to the page the form was on.

    A step with a caution must have it acknowledged for the plan's current
    version first; until then nothing changes and the patient is told why.
    """
    step = _get_step_for_user(request, step_id)
    patient = step.plan.patient
    if step.caution and step.pk not in CautionAcknowledgement.objects.acknowledged_step_ids(step.plan):
        messages.error(
            request, f"Please read the caution for “{step.title}” and press “I understand” before ticking it off."
        )
        return _back_to_step(request, step)
    done = StepCheck.objects.toggle(step=step, day=patient.local_today())
    what = f"{'Ticked' if done else 'Unticked'} step: {step.title}"
    AccessLog.objects.record(request, patient=patient, action=AccessLog.CHANGE, what=what)
    return _back_to_step(request, step)


@login_required
@require_POST
def acknowledge_caution(request, step_id):
    """The patient confirms they understood a step's caution (once per plan version)."""
    step = _get_step_for_user(request, step_id)
    if step.caution:
        ack = CautionAcknowledgement.objects.acknowledge(step=step, now=timezone.now())
        what = f"Acknowledged caution: {step.title} (plan v{ack.plan_version})"
        AccessLog.objects.record(request, patient=step.plan.patient, action=AccessLog.CHANGE, what=what)
    return _back_to_step(request, step)


@login_required
@require_POST
def skin_check_in(request):
    """The patient's answer to "how does your skin feel today?"; back to the today page."""
    patient = get_patient_for_user(request)
    form = SkinCheckInForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Please choose how your skin feels.")
        return redirect(f"{reverse('home')}#skin")
    feeling = form.cleaned_data["feeling"]
    _check_in, flag = record_check_in(patient=patient, day=patient.local_today(), feeling=feeling, now=timezone.now())
    what = f"Skin check-in: {SkinCheckIn.Feeling(feeling).label.lower()}"
    AccessLog.objects.record(request, patient=patient, action=AccessLog.CHANGE, what=what)
    if flag is not None:
        messages.warning(
            request,
            "Thank you. Your skin has been uncomfortable for a few days, so we have let your dermatologist know. "
            f"If it gets worse, call the clinic on {settings.CLINIC_PHONE}.",
        )
    else:
        messages.success(request, "Thank you: noted for today.")
    return redirect(f"{reverse('home')}#skin")


def handout_context(plan: Plan, *, patient: Patient, today: dt.date) -> dict:
    """Everything a printed plan shows; shared by the print page and both PDFs."""
    grid_days = [today + dt.timedelta(n) for n in range(GRID_DAYS)]
    # The same rule as the today page and reminders: phases and procedure holds included.
    due_on = [{s.pk for steps in plan.steps_scheduled_on(d).values() for s in steps} for d in grid_days]
    for step in plan.steps.all():
        step.progress = step.progress_on(today)
    _note_holds(plan, today)
    slots = _slots(plan.steps_by_slot())
    rows = [
        {"step": step, "cells": [step.pk in due for due in due_on]}
        for _slot, _label, steps in slots
        for step in steps
        if step.phase_values() or step.frequency != schedule.AS_NEEDED
    ]
    return {
        "plan": plan,
        "patient": patient,
        "printed_on": today,
        "slots": slots,
        "grid_days": grid_days,
        "grid_rows": rows,
        "articles": plan.articles.all(),
    }


def _plan_pdf(request, patient: Patient) -> "handouts.HttpResponse":
    day = patient.local_today()
    plan = _current_or_upcoming(patient, day, _plans_with_articles())
    if plan is None:
        raise Http404("This patient has no current plan.")
    AccessLog.objects.record(
        request, patient=patient, action=AccessLog.PRINT, what=f"Plan PDF: {plan.name} v{plan.version}"
    )
    context = handout_context(plan, patient=patient, today=day)
    portal = handouts.portal_url("/")
    context.update(portal_link=portal, qr=handouts.qr_svg(portal))
    pdf = handouts.render_pdf("handouts/plan.html", context)
    return handouts.pdf_response(pdf, f"plan-{patient.chart_number}-v{plan.version}")


@handouts.printout
@login_required
def plan_print(request):
    patient = get_patient_for_user(request)
    day = patient.local_today()
    plan = _current_or_upcoming(patient, day, _plans_with_articles())
    if plan is None:
        return render(request, "routines/no_plan.html", {"patient": patient, "today": day})
    AccessLog.objects.record(
        request, patient=patient, action=AccessLog.PRINT, what=f"Plan print page: {plan.name} v{plan.version}"
    )
    return render(request, "routines/plan_print.html", handout_context(plan, patient=patient, today=day))


@handouts.printout
@login_required
def plan_handout(request):
    return _plan_pdf(request, get_patient_for_user(request))


@handouts.printout
@login_required
@permission_required("portal.print_handout", raise_exception=True)
def staff_plan_handout(request, patient_id):
    patient = get_object_or_404(Patient.objects.select_related("user"), pk=patient_id)
    return _plan_pdf(request, patient)
