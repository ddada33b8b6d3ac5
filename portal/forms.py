from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .models import Patient

User = get_user_model()

# How a patient is reminded, as staff set it on the patient's page.
REMINDER_FIELDS = [
    "email_consent",
    "sms_consent",
    "morning_reminder_time",
    "evening_reminder_time",
    "reminders_paused",
    "paused_until",
]


class ReminderPauseMixin:
    """For forms with "Pause" and "Resume on": unticking "Pause" ends the pause, date or no date.

    `Patient.clean` reads a resume date as a pause, so that a date alone pauses;
    without this, a patient who unticks the box but leaves the date would stay paused.
    """

    def clean(self):
        cleaned = super().clean()
        if "reminders_paused" in self.changed_data and not cleaned.get("reminders_paused"):
            cleaned["paused_until"] = None
        return cleaned


class PatientAdminForm(ReminderPauseMixin, forms.ModelForm):
    """Registers or edits a patient and their portal login in one form.

    A new patient's login has no usable password: they set one through the
    portal invitation.
    """

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(label=_("Email"), help_text=_("The patient's portal login and where reminders go."))

    class Meta:
        model = Patient
        fields = [
            "chart_number",
            "date_of_birth",
            "phone",
            "time_zone",
            "preferred_language",
            "dermatologist",
            *REMINDER_FIELDS,
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            user = self.instance.user
            self.fields["first_name"].initial = user.first_name
            self.fields["last_name"].initial = user.last_name
            self.fields["email"].initial = user.email

    def clean_chart_number(self):
        """Chart numbers are kept in capitals, so "c-1234" finds and clashes with "C-1234"."""
        return self.cleaned_data["chart_number"].strip().upper()

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        others = User.objects.filter(username__iexact=email) | User.objects.filter(email__iexact=email)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.user_id)
        if others.exists():
            raise forms.ValidationError(_("Another account already uses this email address."))
        return email

    def save(self, commit=True):
        patient = super().save(commit=False)
        user = patient.user if patient.user_id else User(is_active=True)
        if not user.pk:
            user.set_unusable_password()
        # Patients log in with their email: a corrected address corrects the login too.
        user.username = self.cleaned_data["email"]
        user.first_name = self.cleaned_data["first_name"]
        user.last_name = self.cleaned_data["last_name"]
        user.email = self.cleaned_data["email"]
        user.save()
        patient.user = user
        if commit:
            patient.save()
            self.save_m2m()
        return patient


class LoginForm(AuthenticationForm):
    remember_me = forms.BooleanField(
        required=False,
        label=_("Keep me signed in on this device for 14 days"),
        help_text=_("Only on your own phone or computer."),
    )

    def clean_username(self):
        """An email address logs in however it is capitalised (patients' usernames are their email)."""
        username = self.cleaned_data["username"]
        if "@" in username:
            stored = User.objects.filter(username__iexact=username).values_list("username", flat=True)
            return next(iter(stored), username)
        return username
