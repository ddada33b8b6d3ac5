import functools

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from education.models import Article
from portal import handouts
from portal.language import language_of
from portal.models import AccessLog, Patient
from portal.redirects import safe_next

from .checkins import record_check_in
from .forms import SkinCheckInForm
from .models import CautionAcknowledgement, Plan, PlanStep, SkinCheckIn, StepCheck
from .today import Sheet, sheet_for, step_title, today_for

GRID_DAYS = 14


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


def patient_page(view):
    """A patient's own page, never cached: `view(request, patient)`. Staff have no plan: they go to the admin."""

    @functools.wraps(view)
    def page(request, *args, **kwargs):
        if request.user.is_staff:
            return redirect("admin:index")
        return view(request, get_patient_for_user(request), *args, **kwargs)

    return never_cache(login_required(page))


@patient_page
def today(request, patient):
    page = today_for(patient=patient, day=patient.local_today())
    if page.plan is None:
        if page.upcoming is not None:
            what = f"Today: upcoming {page.upcoming.name} v{page.upcoming.version}"
            AccessLog.objects.record(request, patient=patient, action=AccessLog.VIEW, what=what)
        context = {"patient": patient, "upcoming": page.upcoming, "upcoming_name": page.name}
        return render(request, "routines/no_plan.html", context)
    what = f"Today: {page.plan.name} v{page.plan.version}"
    AccessLog.objects.record(request, patient=patient, action=AccessLog.VIEW, what=what)
    return render(request, "routines/today.html", {"patient": patient, "page": page, "plan": page.plan})


@patient_page
def plan_detail(request, patient):
    sheet = sheet_for(patient=patient, day=patient.local_today())
    if sheet is None:
        return render(request, "routines/no_plan.html", {"patient": patient})
    what = f"Plan: {sheet.plan.name} v{sheet.plan.version}"
    AccessLog.objects.record(request, patient=patient, action=AccessLog.VIEW, what=what)
    context = {"patient": patient, "sheet": sheet, "plan": sheet.plan, "articles": _articles_for(sheet.plan, patient)}
    return render(request, "routines/plan.html", context)


def _articles_for(plan: Plan, patient: Patient) -> list[Article]:
    """The plan's articles, each in the patient's language where a published version exists (one query)."""
    articles = Article.objects.versions_of(plan.articles.values("pk"), language_of(patient))
    return list(articles.only("title", "slug", "summary", "language"))


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
    if step.caution and not CautionAcknowledgement.objects.for_current_version(step).exists():
        title = step_title(step, language_of(patient))
        message = _("Please read the caution for “%(title)s” and press “I understand” before ticking it off.")
        messages.error(request, message % {"title": title})
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
        messages.error(request, _("Please choose how your skin feels."))
        return redirect(f"{reverse('home')}#skin")
    feeling = form.cleaned_data["feeling"]
    _check_in, flag = record_check_in(patient=patient, day=patient.local_today(), feeling=feeling, now=timezone.now())
    what = f"Skin check-in: {SkinCheckIn.Feeling(feeling).label.lower()}"
    AccessLog.objects.record(request, patient=patient, action=AccessLog.CHANGE, what=what)
    if flag is not None:
        messages.warning(
            request,
            _(
                "Thank you. Your skin has been uncomfortable for a few days, so we have let your dermatologist know. "
                "If it gets worse, call the clinic on %(phone)s."
            )
            % {"phone": settings.CLINIC_PHONE},
        )
    else:
        messages.success(request, _("Thank you: noted for today."))
    return redirect(f"{reverse('home')}#skin")


def handout_context(sheet: Sheet, *, patient: Patient) -> dict:
    """Everything a printed plan shows; shared by the print page and both PDFs."""
    grid_days = sheet.tick_days(GRID_DAYS)
    return {
        "sheet": sheet,
        "plan": sheet.plan,
        "patient": patient,
        "printed_on": sheet.day,
        "slots": sheet.slots,
        "grid_days": grid_days,
        "grid_rows": sheet.tick_rows(grid_days),
        "articles": _articles_for(sheet.plan, patient),
    }


def _plan_pdf(request, patient: Patient) -> "handouts.HttpResponse":
    """The plan as a PDF in the patient's language, whoever prints it (the front desk's may be English)."""
    with translation.override(language_of(patient)):
        sheet = sheet_for(patient=patient, day=patient.local_today())
        if sheet is None:
            raise Http404("This patient has no current plan.")
        plan = sheet.plan
        what = f"Plan PDF: {plan.name} v{plan.version}"
        AccessLog.objects.record(request, patient=patient, action=AccessLog.PRINT, what=what)
        portal = handouts.portal_url("/")
        context = {**handout_context(sheet, patient=patient), "portal_link": portal, "qr": handouts.qr_svg(portal)}
        pdf = handouts.render_pdf("handouts/plan.html", context)
    return handouts.pdf_response(pdf, f"plan-{patient.chart_number}-v{plan.version}")


@handouts.printout
@login_required
def plan_print(request):
    patient = get_patient_for_user(request)
    sheet = sheet_for(patient=patient, day=patient.local_today())
    if sheet is None:
        return render(request, "routines/no_plan.html", {"patient": patient})
    what = f"Plan print page: {sheet.plan.name} v{sheet.plan.version}"
    AccessLog.objects.record(request, patient=patient, action=AccessLog.PRINT, what=what)
    return render(request, "routines/plan_print.html", handout_context(sheet, patient=patient))


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
