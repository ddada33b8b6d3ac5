from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from portal.forms import ReminderPauseMixin
from portal.models import Patient

# What the portal sends a patient: one choice, stored as Patient.step_reminders and Patient.weekly_digest.
SENDS = {"both": (True, True), "steps": (True, False), "digest": (False, True), "none": (False, False)}
SENDS_CHOICES = [
    ("both", _("Step reminders and a weekly digest")),
    ("steps", _("Step reminders only")),
    ("digest", _("A weekly digest only")),
    ("none", _("Nothing")),
]


def sends_of(patient: Patient) -> str:
    """The SENDS key matching the patient's two switches."""
    return next(key for key, switches in SENDS.items() if switches == (patient.step_reminders, patient.weekly_digest))


class ReminderPreferencesForm(ReminderPauseMixin, forms.ModelForm):
    """A patient's own reminder settings. Pausing with no date pauses until turned back on."""

    sends = forms.ChoiceField(
        label=_("What we send you"),
        choices=SENDS_CHOICES,
        widget=forms.RadioSelect,
        help_text=_(
            "Step reminders come at your morning and evening times. The weekly digest is one email: "
            "how last week went, what to read next and any pause coming up."
        ),
    )

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
            "digest_weekday",
            "digest_time",
        ]
        labels = {
            "morning_reminder_time": _("Morning reminder time"),
            "evening_reminder_time": _("Evening reminder time"),
            "time_zone": _("Time zone"),
            "email_consent": _("Send me reminders by email"),
            "sms_consent": _("Send me reminders by text message (SMS)"),
            "reminders_paused": _("Pause my reminders"),
            "paused_until": _("Resume on"),
            "digest_weekday": _("Weekly digest day"),
            "digest_time": _("Weekly digest time"),
        }
        widgets = {
            "morning_reminder_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "evening_reminder_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "paused_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "digest_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["sends"].initial = sends_of(self.instance)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Fieldset(_("What"), "sends", "digest_weekday", "digest_time"),
            Fieldset(_("When"), "morning_reminder_time", "evening_reminder_time", "time_zone"),
            Fieldset(_("How"), "email_consent", "sms_consent"),
            Fieldset(_("Pause"), "reminders_paused", "paused_until"),
            Submit("save", _("Save reminder settings")),
        )

    def clean(self):
        """The date check, and a digest chosen without email (it would never come); the rest are the
        Patient's own rules (`Patient.clean`)."""
        cleaned = super().clean()
        until = cleaned.get("paused_until")
        if until and self.today and until <= self.today:
            self.add_error("paused_until", _("Choose a date after today, or leave it empty."))
        wants_digest = SENDS.get(cleaned.get("sends"), (False, False))[1]
        if wants_digest and not cleaned.get("email_consent") and {"sends", "email_consent"} & set(self.changed_data):
            self.add_error(
                "sends",
                _(
                    "The weekly digest comes by email: also tick “Send me reminders by email”, "
                    "or choose another option."
                ),
            )
        return cleaned

    def save(self, commit=True):
        self.instance.step_reminders, self.instance.weekly_digest = SENDS[self.cleaned_data["sends"]]
        return super().save(commit)
