"""What reminders adds to the layers below it, which never import it (registered in RemindersConfig.ready())."""

from portal.models import Patient

from .models import Reminder


def forget_delivery_errors(*, patient: Patient) -> None:
    """For portal's `anonymise_patient`: blank the patient's delivery errors, which can quote their address.

    The rows stay: they are the record of what was sent.
    """
    Reminder.objects.filter(patient=patient).exclude(last_error="").update(last_error="(removed with the patient)")
