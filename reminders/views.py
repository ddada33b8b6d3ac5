from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from portal.language import language_of
from portal.models import AccessLog, Patient, new_calendar_token
from routines.views import get_patient_for_user

from . import planning, sending
from .calendar import build_calendar
from .forms import ReminderPreferencesForm
from .models import Reminder


@never_cache
@login_required
def preferences(request):
    """The patient's reminder times, zone, channels and pause; the calendar link."""
    patient = get_patient_for_user(request)
    now = timezone.now()
    form = ReminderPreferencesForm(request.POST or None, instance=patient, today=patient.local_today(now))
    if request.method == "POST":
        if form.is_valid():
            form.save()
            if form.has_changed():  # as in the admin: only a real change re-plans
                planning.replan_patient(patient=patient, now=now)
            AccessLog.objects.record(request, patient=patient, action=AccessLog.CHANGE, what="Reminder settings")
            messages.success(request, _("Your reminder settings are saved."))
            return redirect("reminders:settings")
        # is_valid() copied the bad input onto the instance; show the stored values elsewhere on the page.
        patient.refresh_from_db()
    upcoming = (
        Reminder.objects.filter(patient=patient, status=Reminder.Status.PENDING, due_at__gte=now)
        .order_by("due_at")
        .only("slot", "due_at", "channel")[:4]
    )
    context = {
        "form": form,
        "patient": patient,
        "upcoming": upcoming,
        "calendar_url": settings.PORTAL_BASE_URL + reverse("reminders:calendar", args=[patient.calendar_token]),
    }
    return render(request, "reminders/settings.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def regenerate_calendar(request):
    """Give the patient a new calendar link; the old one stops working at once."""
    patient = get_patient_for_user(request)
    patient.calendar_token = new_calendar_token()
    patient.save(update_fields=["calendar_token"])
    AccessLog.objects.record(request, patient=patient, action=AccessLog.CHANGE, what="Calendar link regenerated")
    messages.success(request, _("Your calendar link has changed. Subscribe again with the new link."))
    return redirect("reminders:settings")


@never_cache
def calendar_feed(request, token):
    """The ICS feed; the secret token in the URL is the only credential calendar apps can send."""
    patient = get_object_or_404(Patient.objects.select_related("user"), calendar_token=token)
    AccessLog.objects.record(request, patient=patient, action=AccessLog.VIEW, what="Reminder calendar feed")
    with translation.override(language_of(patient)):
        ics = build_calendar(patient, now=timezone.now())
    response = HttpResponse(ics, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="skin-care-routine.ics"'
    return response


def _audit_text(channel: str) -> str:
    """The access log's words, in English like the rest of the log whatever the patient reads."""
    if channel == sending.UNSUBSCRIBE_DIGEST:
        return "Unsubscribed from the weekly digest"
    with translation.override("en"):
        return f"Unsubscribed from {Reminder.Channel(channel).label} reminders"


# Exempt from CSRF so mail clients can make the RFC 8058 one-click POST, which
# carries no cookie or form token; the signed token in the URL authenticates it.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """GET asks for confirmation; POST stops reminders on the token's channel, or the weekly digest.

    A digest's link turns off the digest only: step reminders and the email consent stay as they were.
    """
    try:
        patient_id, channel = sending.read_unsubscribe_token(token)
    except signing.BadSignature:
        return render(request, "reminders/unsubscribe_invalid.html", status=400)
    patient = Patient.objects.filter(pk=patient_id).select_related("user").first()
    signed_in_as_other = request.user.is_authenticated and patient is not None and request.user.pk != patient.user_id
    if patient is None or signed_in_as_other:
        # A link meant for someone else: change nothing, say so.
        return render(request, "reminders/unsubscribe_invalid.html", status=403)
    # Reached from an email without logging in: the page speaks the patient's language, not the browser's.
    translation.activate(language_of(patient))
    request.LANGUAGE_CODE = translation.get_language()
    digest = channel == sending.UNSUBSCRIBE_DIGEST
    channel_label = "" if digest else dict(Reminder.Channel.choices)[channel]
    if request.method == "POST":
        field = "weekly_digest" if digest else f"{channel}_consent"
        setattr(patient, field, False)
        patient.save(update_fields=[field])
        AccessLog.objects.record(
            request,
            patient=patient,
            action=AccessLog.CHANGE,
            what=_audit_text(channel),
        )
        # Pending rows are skipped at send time ("no consent", "turned off the weekly digest").
        return render(request, "reminders/unsubscribe_done.html", {"channel": channel_label, "digest": digest})
    context = {"channel": channel_label, "digest": digest, "token": token}
    return render(request, "reminders/unsubscribe_confirm.html", context)
