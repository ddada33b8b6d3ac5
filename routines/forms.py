from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import date_format

from education.models import Article

from . import conflicts, schedule
from .models import ConflictRule, Plan, PlanPhase, PlanStep, ProcedureType, Product, RoutineTemplate, SkinCheckIn

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
    "instructions_es",
    "caution_es",
    "area_es",
    "article",
]
# The step's own page: what and when, then each text the patient reads with its Spanish wording right under it.
STEP_FIELDSETS = [
    (None, {"fields": ["slot", "order", "product", "article"]}),
    ("Schedule", {"fields": ["frequency", "interval_days", "offset_days", "weekdays", "wait_minutes"]}),
    (
        "What the patient reads (English, then Spanish)",
        {"fields": ["instructions", "instructions_es", "caution", "caution_es", "area", "area_es"]},
    ),
]
PHASE_FIELDS = ["order", "frequency", "interval_days", "offset_days", "weekdays", "days"]


class FrequencyForm(forms.ModelForm):
    """Admin form for anything with a frequency: weekdays as checkboxes, plain-word errors."""

    weekdays = forms.MultipleChoiceField(
        choices=schedule.WEEKDAY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="For “Chosen weekdays” only.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["weekdays"] = list(self.instance.weekdays or "")
        if "interval_days" in self.fields:
            self.fields["interval_days"].error_messages["min_value"] = "“Every N days” needs N of at least 1."

    def clean_weekdays(self) -> str:
        return "".join(sorted(set(self.cleaned_data["weekdays"])))


class StepForm(FrequencyForm):
    """Admin form for template and plan steps."""

    class Meta:
        model = PlanStep  # replaced per inline through modelform_factory
        fields = STEP_FIELDS
        help_texts = {"frequency": "A step with ramp-up phases follows them instead."}
        # Sentences the patient reads: as wide as the admin's text areas, so they can be read back whole.
        widgets = {
            name: forms.TextInput(attrs={"class": "vLargeTextField"})
            for name in ("instructions", "instructions_es", "caution", "caution_es")
        }


class PhaseForm(FrequencyForm):
    """Admin form for a step's ramp-up phase.

    Its fields are cells of a table row whose column heads Django does not tie to them: each
    names itself for screen readers (the phase's number and the field).
    """

    class Meta:
        model = PlanPhase  # replaced per inline through modelform_factory
        fields = PHASE_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        number = self.prefix.rsplit("-", 1)[-1] if self.prefix else ""
        for name, field in self.fields.items():
            if name != "weekdays":  # each weekday box has its own label
                where = f"phase {int(number) + 1}: " if number.isdigit() else "new phase: "
                field.widget.attrs.setdefault("aria-label", f"{where}{field.label}")


def kept_forms(formset) -> list:
    """The formset's filled-in forms that are not marked for deletion, in form order."""
    return [form for form in formset.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")]


class ListedStepForm(StepForm):
    """A template step as the template's page lists it: validated with the page, never saved by it.

    Each step is edited on its own page; an old copy of the template's page posting its hidden
    fields back must not overwrite what was changed there since (templates have no version to
    refuse a stale page, as plans do). New rows still save.
    """

    def has_changed(self):
        return self.instance.pk is None and super().has_changed()


class StepFormSet(forms.BaseInlineFormSet):
    """A template's or plan's steps: refused as a whole if two of them break a conflict rule.

    The clash is across steps, so this is the formset's check, not a form's.
    Each step keeps the ramp-up phases it already has (edited on its own page).
    """

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        # Validated forms have put their values on their instances.
        items = [conflicts.item_of(form.instance, form.instance.phase_values()) for form in kept_forms(self)]
        error = self.instance.conflict_error(items)
        if error:
            raise ValidationError(error, code="conflict")


class PhaseFormSet(forms.BaseInlineFormSet):
    """A step's ramp-up phases: every phase but the last has a length; the last is open-ended.

    The step with these phases must not break a conflict rule with its sibling steps.
    """

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        # Stable sort: equal orders keep form order, which is the database's (order, id) order.
        phases = sorted(kept_forms(self), key=lambda form: form.cleaned_data.get("order") or 0)
        lengths = [form.cleaned_data.get("days") for form in phases]
        errors = schedule.phase_errors(lengths)
        for n, message in errors.items():
            phases[n].add_error("days", message)
        if errors:
            return
        step = self.instance  # with the step form's new values
        values = [form.instance.as_value() for form in phases]
        items = [conflicts.item_of(s, s.phase_values()) for s in step.siblings()] + [conflicts.item_of(step, values)]
        error = step.parent.conflict_error(items)
        if error:
            raise ValidationError(error, code="conflict")


class PlanForm(forms.ModelForm):
    """The admin's plan form: refuses a second active plan of the patient on any of the same dates.

    A patient follows one plan at a time: the today page would show one of them and reminders
    would come from both. Checked only when the plan is added or its patient, status or dates
    change, so plans that overlapped before this rule existed can still have their steps corrected.

    It also refuses a page opened before the plan's last change (`seen_version`): its steps travel
    with the page unseen (the builder shows them as a table), and saving an old copy would quietly
    undo a step edited since on the step's own page.
    """

    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["seen_version"] = self.instance.version

    def clean(self):
        cleaned = super().clean()
        seen = cleaned.get("seen_version")
        if self.instance.pk and seen is not None and seen != self.instance.version:
            raise ValidationError(
                f"This plan has changed since this page was opened (it is now version {self.instance.version}). "
                "Open it again to see its steps as they are now, then make your change.",
                code="stale",
            )
        changed = {"patient", "status", "start_date", "end_date"}.intersection(self.changed_data)
        if self.errors or cleaned.get("status") != Plan.Status.ACTIVE or (self.instance.pk and not changed):
            return cleaned
        others = Plan.objects.filter(patient=cleaned["patient"]).exclude(pk=self.instance.pk)
        clash = others.active_between(cleaned["start_date"], cleaned.get("end_date")).order_by("start_date").first()
        if clash is not None:
            dates = f"from {date_format(clash.start_date, 'j F Y')}"
            dates += f" to {date_format(clash.end_date, 'j F Y')}" if clash.end_date else ", with no end date"
            raise ValidationError(
                f"This patient already has an active plan on some of these dates: “{clash.name}”, {dates}. "
                "A patient follows one plan at a time (and would get reminders from both): "
                "end that plan, or change these dates.",
                code="overlap",
            )
        return cleaned


class ProcedureTypeForm(forms.ModelForm):
    """Admin form for a procedure type: the paused categories as checkboxes."""

    stops_categories = forms.MultipleChoiceField(
        label="Pauses products of these categories",
        choices=Product.Category.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = ProcedureType
        fields = ["name", "name_es", "stops_categories", "stops_ingredients", "days_before", "days_after", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["stops_categories"] = self.instance.category_list

    def clean_stops_categories(self) -> str:
        return ",".join(self.cleaned_data["stops_categories"])


class SkinCheckInForm(forms.Form):
    """The patient's one-tap answer on the today page.

    The page shows each answer as its own submit button
    (`routines/includes/skin_check_in.html`, works without JavaScript): a
    plain include, because rendering five crispy buttons cost the busiest
    page more than all its steps. This form validates the POST.
    """

    feeling = forms.ChoiceField(
        choices=SkinCheckIn.Feeling.choices, error_messages={"required": "Please choose how your skin feels."}
    )


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
        template = cleaned.get("template")
        if template and start:
            # Conflict rules may have changed since the template was saved.
            steps = template.steps.select_related("product").prefetch_related("phases")
            items = [conflicts.item_of(step, step.phase_values()) for step in steps]
            rules = ConflictRule.objects.values_for_check()
            clash = conflicts.first_clash(items, rules, start=start, end=end, days=conflicts.window_days(items))
            if clash:
                raise ValidationError(f"{clash.message()} Correct the template first.")
        return cleaned
