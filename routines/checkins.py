"""Irritation check-ins: the patient taps how their skin feels; too many bad days flag them.

Threshold (the clinic's rule): within 7 local days, two "red and sore"
answers, or three answers other than "fine". A flag is raised once per
episode (see `IrritationFlag`) and the assigned dermatologist is emailed
once the transaction commits.
"""

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from portal.models import Patient

from .models import IrritationFlag, SkinCheckIn

WINDOW_DAYS = 7
RED_AND_SORE_LIMIT = 2
NOT_FINE_LIMIT = 3
Feeling = SkinCheckIn.Feeling


def flag_reason(check_ins: Iterable[tuple[dt.date, str]], *, today: dt.date) -> str:
    """Why (date, feeling) answers flag the patient on `today`, or "" if they do not.

    Only answers in the 7 local days ending `today` count.
    """
    first = today - dt.timedelta(days=WINDOW_DAYS - 1)
    recent = [feeling for day, feeling in check_ins if first <= day <= today]
    red = recent.count(Feeling.RED_AND_SORE)
    if red >= RED_AND_SORE_LIMIT:
        return f"“Red and sore” {red} times in {WINDOW_DAYS} days"
    not_fine = sum(feeling != Feeling.FINE for feeling in recent)
    if not_fine >= NOT_FINE_LIMIT:
        return f"Skin not fine {not_fine} times in {WINDOW_DAYS} days"
    return ""


@transaction.atomic
def record_check_in(
    *, patient: Patient, day: dt.date, feeling: str, now: dt.datetime
) -> tuple[SkinCheckIn, IrritationFlag | None]:
    """Store the patient's answer for `day` and flag them if this starts an episode.

    Returns the check-in and the new flag (None if none was raised). The
    patient's row is locked first, so two check-ins at once cannot raise two flags.
    """
    Patient.objects.select_for_update().filter(pk=patient.pk).exists()
    check_in, _ = SkinCheckIn.objects.update_or_create(
        patient=patient, local_date=day, defaults={"feeling": feeling, "recorded_at": now}
    )
    flags = IrritationFlag.objects.filter(patient=patient)
    if flags.open().exists():
        return check_in, None
    first = day - dt.timedelta(days=WINDOW_DAYS - 1)
    last_flag = flags.order_by("-raised_on").first()
    if last_flag is not None:
        first = max(first, last_flag.raised_on + dt.timedelta(days=1))  # a new episode needs new answers
    answers = SkinCheckIn.objects.filter(patient=patient, local_date__range=(first, day))
    reason = flag_reason(answers.values_list("local_date", "feeling"), today=day)
    if not reason:
        return check_in, None
    flag = IrritationFlag.objects.create(patient=patient, raised_on=day, raised_at=now, reason=reason)
    if patient.dermatologist_id:
        # Sent in this process once the flag is committed: one email per episode needs no queue
        # or worker. robust: a mail server error is logged and cannot fail the patient's tap; the
        # flag stays in the admin (badge and filter) without `notified_at`, as after any failed send.
        transaction.on_commit(lambda: notify_dermatologist(flag.pk), robust=True)
    return check_in, flag


def notify_dermatologist(flag_id: int) -> bool:
    """Email the patient's dermatologist about an irritation flag. Returns True if an email was sent.

    Minimum necessary: the chart number, the reason and a link to the admin,
    no name or diagnosis (email is not private). Sent at most once per flag
    unless the send itself fails, in which case the flag stays visible in the
    admin without `notified_at`.
    """
    flag = IrritationFlag.objects.select_related("patient__dermatologist").filter(pk=flag_id).first()
    if flag is None or flag.notified_at is not None:
        return False
    dermatologist = flag.patient.dermatologist
    if dermatologist is None or not dermatologist.email:
        return False
    context = {
        "dermatologist": dermatologist,
        "chart_number": flag.patient.chart_number,
        "reason": flag.reason,
        "raised_on": flag.raised_on,
        "admin_url": settings.PORTAL_BASE_URL + reverse("admin:portal_patient_change", args=[flag.patient_id]),
        "clinic_name": settings.CLINIC_NAME,
    }
    email = EmailMultiAlternatives(
        subject=" ".join(render_to_string("emails/irritation_subject.txt", context).split()),
        body=render_to_string("emails/irritation.txt", context),
        to=[dermatologist.email],
    )
    email.attach_alternative(render_to_string("emails/irritation.html", context), "text/html")
    email.send()
    IrritationFlag.objects.filter(pk=flag.pk, notified_at__isnull=True).update(notified_at=timezone.now())
    return True
