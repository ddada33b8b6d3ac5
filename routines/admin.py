from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from portal.admin_site import ReadOnlyAdmin
from portal.audit import AccessLoggedAdminMixin
from portal.models import AccessLog

from . import schedule
from .forms import (
    PHASE_FIELDS,
    STEP_FIELDS,
    PhaseForm,
    PhaseFormSet,
    PlanForm,
    ProcedureTypeForm,
    StepForm,
    StepFormSet,
)
from .models import (
    CautionAcknowledgement,
    ConflictRule,
    IrritationFlag,
    Plan,
    PlanPhase,
    PlanStep,
    Procedure,
    ProcedureType,
    Product,
    RoutineTemplate,
    SkinCheckIn,
    StepCheck,
    TemplatePhase,
    TemplateStep,
)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "brand", "category", "spf"]
    list_filter = ["category"]
    search_fields = ["name", "brand", "key_ingredients"]


@admin.register(ConflictRule)
class ConflictRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "first_side", "second_side", "active"]
    list_filter = ["active"]
    search_fields = ["name", "first_ingredients", "second_ingredients"]
    fieldsets = [
        (None, {"fields": ["name", "active", "advice"]}),
        ("First", {"fields": ["first_category", "first_ingredients"]}),
        ("Second", {"fields": ["second_category", "second_ingredients"]}),
    ]

    @admin.display(description="First")
    def first_side(self, rule):
        return rule.side_text(rule.first_category, rule.first_ingredients)

    @admin.display(description="Never in the same slot on the same day as")
    def second_side(self, rule):
        return rule.side_text(rule.second_category, rule.second_ingredients)


@admin.register(ProcedureType)
class ProcedureTypeAdmin(admin.ModelAdmin):
    form = ProcedureTypeForm
    list_display = ["name", "pauses", "days_before", "days_after"]
    search_fields = ["name"]

    @admin.display(description="Pauses")
    def pauses(self, kind):
        categories = [Product.Category(c).label.lower() for c in kind.category_list if c in Product.Category.values]
        return ", ".join(categories + [kind.stops_ingredients] if kind.stops_ingredients else categories)


@admin.register(Procedure)
class ProcedureAdmin(AccessLoggedAdminMixin, admin.ModelAdmin):
    """Booking a procedure pauses the patient's matching steps around its date; moving the date moves the pause.

    Its page lists the plan steps it pauses, so opening it is logged as reading the patient's plan.
    """

    list_display = ["date", "patient", "type", "paused_dates", "created_by"]
    list_filter = ["type", ("date", admin.DateFieldListFilter)]
    list_select_related = ["patient__user", "type", "created_by"]
    search_fields = ["patient__chart_number", "patient__user__last_name", "type__name"]
    autocomplete_fields = ["patient"]
    date_hierarchy = "date"
    fields = ["patient", "type", "date", "note", "paused_dates", "paused_steps"]
    readonly_fields = ["paused_dates", "paused_steps"]

    def patient_of(self, procedure):
        return procedure.patient

    @admin.display(description="Paused")
    def paused_dates(self, procedure):
        if not procedure.pk:
            return "–"
        hold = procedure.hold
        return f"{hold.first:%Y-%m-%d} to {hold.last:%Y-%m-%d} (restart {hold.resume_on:%Y-%m-%d})"

    @admin.display(description="Steps it pauses")
    def paused_steps(self, procedure):
        if not procedure.pk:
            return "Shown once saved."
        plan = Plan.objects.current_for(procedure.patient, procedure.date) or Plan.objects.with_steps().upcoming_for(
            procedure.patient, procedure.date
        )
        if plan is None:
            return "The patient has no plan on that date."
        steps = [step.title for step in plan.ordered_steps() if procedure.type.stops(step.product)]
        return ", ".join(steps) or "None of the current plan's steps."

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        what = f"{'Moved' if change else 'Booked'} {obj.type} on {obj.date:%Y-%m-%d}"
        AccessLog.objects.record(request, patient=obj.patient, action=AccessLog.CHANGE, what=what)

    def delete_model(self, request, obj):
        AccessLog.objects.record(request, patient=obj.patient, action=AccessLog.CHANGE, what=f"Cancelled {obj}")
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for procedure in queryset.select_related("patient", "type"):
            what = f"Cancelled {procedure}"
            AccessLog.objects.record(request, patient=procedure.patient, action=AccessLog.CHANGE, what=what)
        super().delete_queryset(request, queryset)


class RampUpSummary:
    """A step inline's read-only "Ramp-up" line, linking to the step's own page where phases are edited.

    Django's admin cannot nest inlines, so phases live one click away.
    """

    readonly_fields = ["ramp_up"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("phases")

    @admin.display(description="Ramp-up")
    def ramp_up(self, step):
        if not step.pk:
            return "Save first; then ramp-up phases can be added on the step's own page."
        url = reverse(f"admin:routines_{step._meta.model_name}_change", args=[step.pk])
        phases = step.phase_values()
        if not phases:
            return format_html('None: the frequency above applies. <a href="{}">Add ramp-up phases</a>', url)
        return format_html('{} · <a href="{}">Edit ramp-up phases</a>', schedule.describe(step, phases), url)


class TemplateStepInline(RampUpSummary, admin.StackedInline):
    model = TemplateStep
    form = StepForm
    formset = StepFormSet
    fields = [*STEP_FIELDS, "ramp_up"]
    extra = 0
    autocomplete_fields = ["product"]


@admin.register(RoutineTemplate)
class RoutineTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "created_by", "created_at"]
    search_fields = ["name"]
    filter_horizontal = ["articles"]
    inlines = [TemplateStepInline]
    exclude = ["created_by"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class PlanStepInline(RampUpSummary, admin.StackedInline):
    model = PlanStep
    form = StepForm
    formset = StepFormSet
    fields = [*STEP_FIELDS, "ramp_up"]
    extra = 0
    autocomplete_fields = ["product"]


@admin.register(Plan)
class PlanAdmin(AccessLoggedAdminMixin, admin.ModelAdmin):
    form = PlanForm
    list_display = ["name", "patient", "status", "start_date", "end_date", "version", "assigned_by"]
    list_filter = ["status", "template"]
    list_select_related = ["patient__user", "assigned_by"]
    search_fields = ["name", "patient__chart_number", "patient__user__last_name"]
    autocomplete_fields = []
    raw_id_fields = ["patient"]
    filter_horizontal = ["articles"]
    readonly_fields = ["version", "template", "assigned_by", "handout_link", "caution_acknowledgements"]
    fields = [
        "patient",
        "name",
        "status",
        "start_date",
        "end_date",
        "note",
        "articles",
        "version",
        "template",
        "assigned_by",
        "handout_link",
        "caution_acknowledgements",
    ]
    inlines = [PlanStepInline]

    @admin.display(description="Cautions the patient acknowledged")
    def caution_acknowledgements(self, plan):
        """Read-only: which cautions the patient confirmed, for which plan version, and when."""
        if not plan.pk:
            return "–"
        acks = CautionAcknowledgement.objects.filter(step__plan=plan).select_related("step__product")
        cautioned = [step for step in plan.steps.all() if step.caution]
        current = {ack.step_id for ack in acks if ack.plan_version == plan.version}
        waiting = [step.title for step in cautioned if step.pk not in current]
        rows = format_html_join(
            "",
            "<li>{} · version {} · {}: “{}”</li>",
            (
                (
                    ack.step.title,
                    ack.plan_version,
                    timezone.localtime(ack.acknowledged_at).strftime("%Y-%m-%d %H:%M"),
                    ack.caution,
                )
                for ack in acks
            ),
        )
        status = (
            format_html("Not yet acknowledged for version {}: {}.", plan.version, ", ".join(waiting))
            if waiting
            else format_html("All cautions acknowledged for version {}.", plan.version)
        )
        return format_html("{}<ul>{}</ul>", status, rows) if acks else status

    @admin.display(description="Handout")
    def handout_link(self, plan):
        if not plan.pk:
            return "–"
        url = reverse("handouts:patient-plan", args=[plan.patient_id])
        return format_html('<a href="{}">Print the plan handout (PDF)</a>', url)

    def patient_of(self, plan):
        return plan.patient

    def save_model(self, request, obj, form, change):
        if not change:
            obj.assigned_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        """Save the steps; editing an existing plan's steps raises its version (printouts show it)."""
        super().save_related(request, form, formsets, change)
        plan = form.instance
        steps_changed = any(
            fs.new_objects or fs.changed_objects or fs.deleted_objects for fs in formsets if fs.model is PlanStep
        )
        if change and steps_changed:
            plan.bump_version()
        if change and (steps_changed or form.has_changed()):
            what = f"Edited plan {plan.name}, now version {plan.version}"
            AccessLog.objects.record(request, patient=plan.patient, action=AccessLog.CHANGE, what=what)


@admin.register(CautionAcknowledgement)
class CautionAcknowledgementAdmin(ReadOnlyAdmin):
    """Read-only record of patients confirming they understood a step's caution."""

    list_display = ["acknowledged_at", "patient", "step", "plan_version", "caution"]
    list_select_related = ["patient__user", "step__product"]
    search_fields = ["patient__chart_number", "patient__user__last_name", "caution"]
    date_hierarchy = "acknowledged_at"


@admin.register(SkinCheckIn)
class SkinCheckInAdmin(ReadOnlyAdmin):
    """What patients tapped under "How does your skin feel today?". Read-only."""

    list_display = ["local_date", "patient", "feeling", "recorded_at"]
    list_filter = ["feeling"]
    list_select_related = ["patient__user"]
    search_fields = ["patient__chart_number", "patient__user__last_name"]
    date_hierarchy = "local_date"


class OpenFlagFilter(admin.SimpleListFilter):
    title = "review"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("open", "Waiting for review"), ("reviewed", "Reviewed")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.open()
        if self.value() == "reviewed":
            return queryset.filter(reviewed_at__isnull=False)
        return queryset


@admin.register(IrritationFlag)
class IrritationFlagAdmin(admin.ModelAdmin):
    """Patients whose check-ins crossed the irritation threshold. Marking one reviewed ends the episode."""

    list_display = ["raised_on", "patient", "reason", "notified_at", "reviewed_at", "reviewed_by"]
    list_filter = [OpenFlagFilter]
    list_select_related = ["patient__user", "reviewed_by"]
    search_fields = ["patient__chart_number", "patient__user__last_name"]
    readonly_fields = ["patient", "raised_on", "raised_at", "reason", "notified_at", "reviewed_at", "reviewed_by"]
    actions = ["mark_reviewed"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Mark reviewed (ends the episode; new check-ins can flag again)", permissions=["change"])
    def mark_reviewed(self, request, queryset):
        flags = list(queryset.open().select_related("patient"))
        IrritationFlag.objects.filter(pk__in=[f.pk for f in flags]).update(
            reviewed_at=timezone.now(), reviewed_by=request.user
        )
        for flag in flags:
            what = f"Reviewed skin irritation flag of {flag.raised_on:%Y-%m-%d}"
            AccessLog.objects.record(request, patient=flag.patient, action=AccessLog.CHANGE, what=what)
        self.message_user(request, f"Marked {len(flags)} flag(s) reviewed.", messages.SUCCESS)


@admin.register(StepCheck)
class StepCheckAdmin(ReadOnlyAdmin):
    list_display = ["local_date", "step", "checked_at"]
    list_select_related = ["step__plan__patient__user", "step__product"]
    date_hierarchy = "local_date"


# --- A step's own page: its fields and its ramp-up phases ---------------------


class TemplatePhaseInline(admin.TabularInline):
    model = TemplatePhase
    form = PhaseForm
    formset = PhaseFormSet
    fields = PHASE_FIELDS
    extra = 1


class PlanPhaseInline(TemplatePhaseInline):
    model = PlanPhase


class StepAdmin(admin.ModelAdmin):
    """Reached from the template or plan page ("Ramp-up" link), not from the admin index."""

    form = StepForm
    autocomplete_fields = ["product"]
    parent_field = ""  # "template" or "plan"

    def get_fields(self, request, obj=None):
        return [self.parent_field, *STEP_FIELDS]

    def get_readonly_fields(self, request, obj=None):
        return [self.parent_field]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(self.parent_field)

    def get_model_perms(self, request):
        return {}  # hidden from the index; steps are added and deleted on their template or plan page

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def response_change(self, request, obj):
        if "_continue" in request.POST:
            return super().response_change(request, obj)
        parent = getattr(obj, self.parent_field)
        self.message_user(request, f"Saved “{obj}”.", messages.SUCCESS)
        return redirect(f"admin:routines_{parent._meta.model_name}_change", parent.pk)


@admin.register(TemplateStep)
class TemplateStepAdmin(StepAdmin):
    parent_field = "template"
    inlines = [TemplatePhaseInline]


@admin.register(PlanStep)
class PlanStepAdmin(AccessLoggedAdminMixin, StepAdmin):
    parent_field = "plan"
    inlines = [PlanPhaseInline]

    def patient_of(self, step):
        return step.plan.patient

    def save_related(self, request, form, formsets, change):
        """Editing a plan's step or its phases raises the plan's version, as on the plan page."""
        super().save_related(request, form, formsets, change)
        phases_changed = any(fs.new_objects or fs.changed_objects or fs.deleted_objects for fs in formsets)
        if change and (form.has_changed() or phases_changed):
            plan = form.instance.plan
            plan.bump_version()
            what = f"Edited step {form.instance.title} of plan {plan.name}, now version {plan.version}"
            AccessLog.objects.record(request, patient=plan.patient, action=AccessLog.CHANGE, what=what)
