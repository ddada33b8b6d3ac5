from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from portal.forms import ReminderPauseMixin
from portal.models import Patient


class ReminderPreferencesForm(ReminderPauseMixin, forms.ModelForm):
    """A patient's own reminder settings. Pausing with no date pauses until turned back on."""

    class Meta:
        model = Patient
        fields = [
            "morning_reminder_time",
            "evening_reminder_time",
            "time_zone",
            "email_consent",
            "sms_consent",
            "reminders_paused",
            "paused_until",
        ]
        labels = {
            "morning_reminder_time": _("Morning reminder time"),
            "evening_reminder_time": _("Evening reminder time"),
            "time_zone": _("Time zone"),
            "email_consent": _("Send me reminders by email"),
            "sms_consent": _("Send me reminders by text message (SMS)"),
            "reminders_paused": _("Pause my reminders"),
            "paused_until": _("Resume on"),
        }
        widgets = {
            "morning_reminder_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "evening_reminder_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "paused_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Fieldset(_("When"), "morning_reminder_time", "evening_reminder_time", "time_zone"),
            Fieldset(_("How"), "email_consent", "sms_consent"),
            Fieldset(_("Pause"), "reminders_paused", "paused_until"),
            Submit("save", _("Save reminder settings")),
        )

    def clean(self):
        """Only the date check lives here; the rest are the Patient's own rules (`Patient.clean`)."""
        cleaned = super().clean()
        until = cleaned.get("paused_until")
        if until and self.today and until <= self.today:
            self.add_error("paused_until", _("Choose a date after today, or leave it empty."))
        return cleaned
