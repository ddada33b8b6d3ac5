"""Portal invitations: a one-time link for a patient who has never set a password.

The rule (README, Security): an invitation is issued only for a patient whose
account has no usable password, only by a POST from staff with the right
permission, and activation refuses it once the account has a password. A
patient who already uses the portal gets Django's password reset email at their
own address instead, so no staff member ever holds a working link to an active
account.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .models import AccessLog, Invitation, InvitationRefused, Patient


def activation_url(invitation: Invitation) -> str:
    return f"{settings.PORTAL_BASE_URL}{reverse('activate', args=[invitation.token])}"


@transaction.atomic
def create_invitation(*, patient: Patient, sent_by) -> Invitation:
    """Issue a fresh invitation for `patient`, revoking any earlier unused ones.

    Raises `InvitationRefused` if the patient has already set a password.
    """
    if patient.is_activated:
        raise InvitationRefused(
            f"{patient} already uses the portal: send a password reset email instead of an invitation."
        )
    patient.invitations.usable().update(revoked_at=timezone.now())
    return Invitation.objects.create(patient=patient, created_by=sent_by)


def issue_invitation(*, patient: Patient, request) -> Invitation:
    """Issue an invitation to print (the letter is fetched afterwards) and log who issued it."""
    invitation = create_invitation(patient=patient, sent_by=request.user)
    AccessLog.objects.record(request, patient=patient, action=AccessLog.CHANGE, what="Issued portal invitation")
    return invitation


def send_invitation(*, patient: Patient, request) -> Invitation:
    """Email `patient` a fresh activation link and record who sent it."""
    invitation = create_invitation(patient=patient, sent_by=request.user)
    context = {
        "patient": patient,
        "url": activation_url(invitation),
        "days": settings.INVITATION_MAX_AGE_DAYS,
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
    }
    send_mail(
        subject=render_to_string("emails/invitation_subject.txt", context).strip(),
        message=render_to_string("emails/invitation.txt", context),
        html_message=render_to_string("emails/invitation.html", context),
        from_email=None,
        recipient_list=[patient.user.email],
    )
    AccessLog.objects.record(request, patient=patient, action=AccessLog.CHANGE, what="Sent portal invitation")
    return invitation


def send_password_reset(*, patient: Patient, request) -> bool:
    """Email an active patient Django's password reset link, at their own address only.

    Links point at PORTAL_BASE_URL, not at whatever host the staff member used.
    Returns False (and sends nothing) for an account without a usable password.
    """
    if not (patient.is_activated and patient.user.email):
        return False
    base = urlsplit(settings.PORTAL_BASE_URL)
    form = PasswordResetForm({"email": patient.user.email})
    form.is_valid()
    form.save(
        domain_override=base.netloc,
        use_https=base.scheme == "https",
        request=request,
        extra_email_context={"clinic_name": settings.CLINIC_NAME},
    )
    AccessLog.objects.record(request, patient=patient, action=AccessLog.CHANGE, what="Sent password reset email")
    return True
