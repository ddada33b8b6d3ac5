from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .models import AccessLog, Invitation, Patient


def activation_url(invitation: Invitation) -> str:
    return f"{settings.PORTAL_BASE_URL}{reverse('activate', args=[invitation.token])}"


@transaction.atomic
def create_invitation(*, patient: Patient, sent_by) -> Invitation:
    """Issue a fresh invitation for `patient`, revoking any earlier unused ones."""
    patient.invitations.usable().update(revoked_at=timezone.now())
    return Invitation.objects.create(patient=patient, created_by=sent_by)


def send_invitation(*, patient: Patient, sent_by, request) -> Invitation:
    """Email `patient` a fresh activation link and record who sent it."""
    invitation = create_invitation(patient=patient, sent_by=sent_by)
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
