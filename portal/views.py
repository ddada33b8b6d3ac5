from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.forms import SetPasswordForm
from django.db import DatabaseError, transaction
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_ratelimit.decorators import ratelimit

from . import handouts, health
from .forms import LoginForm
from .invitations import activation_url
from .language import language_of
from .models import AccessLog, Invitation, InvitationInvalid, Patient


@require_GET
@never_cache
def healthz(request):
    """200 with {"database": "ok"} and each registered check ({"reminders": "ok"|"stale"}); 503 if the database is down.

    The checks besides the database come from the apps above portal, registered in portal.health.
    """
    try:
        Patient.objects.exists()
    except DatabaseError:
        return JsonResponse({"database": "error"}, status=503)
    return JsonResponse({"database": "ok", **health.run_checks()})


class LoginView(auth_views.LoginView):
    form_class = LoginForm

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        if not user.is_staff and form.cleaned_data.get("remember_me"):
            self.request.session.set_expiry(settings.SESSION_COOKIE_AGE)
        else:
            self.request.session.set_expiry(0)  # until the browser closes
        return response


account_rate_limit = ratelimit(key="ip", rate=lambda group, request: settings.RATELIMIT_ACCOUNT_PAGES, method="POST")


@method_decorator(account_rate_limit, name="post")
class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset view, rate-limited; it already says the same whether or not the account exists."""

    extra_email_context = {"clinic_name": settings.CLINIC_NAME}


def rate_limited(request, exception):
    return render(request, "registration/rate_limited.html", status=429)


@never_cache
@account_rate_limit
def activate(request, token):
    """Let an invited patient set their password, once."""
    try:
        invitation = Invitation.from_token(token)
    except InvitationInvalid as exc:
        return render(request, "accounts/activate_invalid.html", {"reason": str(exc)}, status=410)

    user = invitation.patient.user
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            # Claim the invitation first so two simultaneous posts cannot both use it, and
            # never for an account that has meanwhile got a password.
            claimed = Invitation.objects.usable().filter(pk=invitation.pk).update(used_at=timezone.now())
            user.refresh_from_db(fields=["password"])
            if not claimed or user.has_usable_password():
                return render(
                    request,
                    "accounts/activate_invalid.html",
                    {"reason": _("This invitation link has already been used.")},
                    status=410,
                )
            form.save()
        login(request, user, backend="portal.backends.PatientModelBackend")
        # The next page is the patient's, in their language; the message is written now.
        with translation.override(language_of(invitation.patient)):
            messages.success(request, _("Your password is set. Welcome to the portal."))
        return redirect("home")
    return render(request, "accounts/activate.html", {"form": form, "invitation": invitation})


@handouts.printout
@login_required
@permission_required("portal.invite_patient", raise_exception=True)
def invite_handout(request, patient_id):
    """The printed invitation letter for the patient's open invitation: its link as text and QR code.

    Printing issues nothing: staff issue an invitation with a POST from the
    patient's page first (PatientAdmin.issue_invitation_view), then print it
    as often as needed while it is open. An active account has no letter.
    """
    patient = get_object_or_404(Patient.objects.select_related("user"), pk=patient_id)
    invitation = None if patient.is_activated else patient.invitations.unexpired().first()
    if invitation is None:
        raise Http404("This patient has no open invitation to print.")
    url = activation_url(invitation)
    AccessLog.objects.record(request, patient=patient, action=AccessLog.PRINT, what="Portal invitation letter")
    with translation.override(language_of(patient)):  # the letter is the patient's, whatever the staff reads
        pdf = handouts.render_pdf(
            "handouts/invitation.html",
            {
                "patient": patient,
                "url": url,
                "qr": handouts.qr_svg(url),
                "expires_at": invitation.expires_at,
                "login_url": handouts.portal_url(reverse("login")),
            },
        )
    return handouts.pdf_response(pdf, f"invitation-{patient.chart_number}")
