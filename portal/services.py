import datetime as dt

from django.db import transaction

from .models import Patient, new_calendar_token


@transaction.atomic
def anonymise_patient(*, patient: Patient) -> Patient:
    """Strip everything that identifies `patient` and close their login.

    Plans, ticks and the access log stay (clinical and audit record), now
    attached to a record nobody can tie back to a person from the portal alone.
    """
    user = patient.user
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
    patient.save()
    patient.invitations.all().delete()
    return patient
