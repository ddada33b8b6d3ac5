from django import forms
from django.core.exceptions import ValidationError

from education.models import Article

from . import schedule
from .models import PlanStep, RoutineTemplate

STEP_FIELDS = [
    "slot",
    "order",
    "product",
    "instructions",
    "frequency",
    "interval_days",
    "offset_days",
    "weekdays",
    "wait_minutes",
    "caution",
    "area",
]


class StepForm(forms.ModelForm):
    """Admin form for template and plan steps: weekdays as checkboxes, plain-word errors."""

    weekdays = forms.MultipleChoiceField(
        choices=schedule.WEEKDAY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="For “Chosen weekdays” only.",
    )

    class Meta:
        model = PlanStep  # replaced per inline through modelform_factory
        fields = STEP_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["weekdays"] = list(self.instance.weekdays or "")
        if "interval_days" in self.fields:
            self.fields["interval_days"].error_messages["min_value"] = "“Every N days” needs N of at least 1."

    def clean_weekdays(self) -> str:
        return "".join(sorted(set(self.cleaned_data["weekdays"])))


class AssignRoutineForm(forms.Form):
    template = forms.ModelChoiceField(RoutineTemplate.objects.all(), label="Routine template")
    start_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label="Note to the patient", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    articles = forms.ModelMultipleChoiceField(
        Article.objects.published(),
        required=False,
        help_text="Leave empty to link the template's articles.",
        widget=forms.CheckboxSelectMultiple,
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            raise ValidationError({"end_date": "The end date cannot be before the start date."})
        return cleaned
