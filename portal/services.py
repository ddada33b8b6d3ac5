import datetime as dt
from collections.abc import Callable

from axes.models import AccessAttempt, AccessFailureLog
from axes.models import AccessLog as LoginLog
from django.db import transaction

from .models import AccessLog, Patient, new_calendar_token

# Patient fields whose old values the saved copies (Patient.history) must not keep once the patient is removed.
# The copies keep their link to the user, which is anonymised too.
IDENTIFYING_FIELDS = ("chart_number", "date_of_birth", "phone")

# What the apps built on portal clear of their own rows when a patient is removed (portal never
# imports them): functions taking `patient=`, registered from each app's AppConfig.ready().
ANONYMISERS: list[Callable[..., None]] = []


def register_anonymiser(anonymise: Callable[..., None]) -> None:
    """Have `anonymise(patient=...)` run inside `anonymise_patient`, after the patient's own record is stripped."""
    if anonymise not in ANONYMISERS:
        ANONYMISERS.append(anonymise)


@transaction.atomic
def anonymise_patient(*, patient: Patient) -> Patient:
    """Strip everything that identifies `patient` and close their login.

    Plans, ticks and the access log stay (clinical and audit record), now
    attached to a record nobody can tie back to a person from the portal
    alone. The change history keeps who changed what and when, without the
    identifying values; login-attempt records for the old username go, and
    so do names in old access-log rows. Each registered anonymiser then
    clears what its app keeps (the plans' history, delivery errors that can
    quote the email address, ...).
    """
    user = patient.user
    old_logins = {user.username.lower(), user.email.lower()} - {""}
    user.username = f"removed-{patient.pk}"
    user.first_name = ""
    user.last_name = ""
    user.email = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()

    patient.chart_number = f"REMOVED-{patient.pk}"
    patient.date_of_birth = dt.date(1900, 1, 1)
    patient.phone = ""
    patient.email_consent = False
    patient.sms_consent = False
    patient.reminders_paused = True
    patient.calendar_token = new_calendar_token()
    patient.save()  # its saved copy records who removed the patient, and when
    patient.invitations.all().delete()

    # Every earlier copy takes the anonymised values; what else changed, by whom and when, stays.
    patient.history.all().update(**{field: getattr(patient, field) for field in IDENTIFYING_FIELDS})
    # Admin views logged before the log used ids named the record ("Admin patient: Alice Smith (C-1001)").
    # The rows stay (append-only for everyone else); only the name goes.
    named = AccessLog.objects.filter(patient=patient, what__startswith="Admin ", what__contains=": ")
    for kind in {what.split(": ", 1)[0] for what in named.values_list("what", flat=True)}:  # one UPDATE per kind
        named.filter(what__startswith=f"{kind}: ").update(what=f"{kind}: (removed with the patient)")
    for model in (AccessAttempt, AccessFailureLog, LoginLog):
        for login in old_logins:
            model.objects.filter(username__iexact=login).delete()
    for anonymise in ANONYMISERS:
        anonymise(patient=patient)
    return patient
