from . import reminder_admin  # noqa: F401  # isort: skip  (registers the reminder admin)
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from portal.models import AccessLog

from .forms import STEP_FIELDS, StepForm
from .models import Plan, PlanStep, Product, RoutineTemplate, StepCheck, TemplateStep


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "brand", "category", "spf"]
    list_filter = ["category"]
    search_fields = ["name", "brand", "key_ingredients"]


class TemplateStepInline(admin.StackedInline):
    model = TemplateStep
    form = StepForm
    fields = STEP_FIELDS
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


class PlanStepInline(admin.StackedInline):
    model = PlanStep
    form = StepForm
    fields = STEP_FIELDS
    extra = 0
    autocomplete_fields = ["product"]


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "patient", "status", "start_date", "end_date", "version", "assigned_by"]
    list_filter = ["status", "template"]
    list_select_related = ["patient__user", "assigned_by"]
    search_fields = ["name", "patient__chart_number", "patient__user__last_name"]
    autocomplete_fields = []
    raw_id_fields = ["patient"]
    filter_horizontal = ["articles"]
    readonly_fields = ["version", "template", "assigned_by", "handout_link"]
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
    ]
    inlines = [PlanStepInline]

    @admin.display(description="Handout")
    def handout_link(self, plan):
        if not plan.pk:
            return "–"
        url = reverse("handouts:patient-plan", args=[plan.patient_id])
        return format_html('<a href="{}">Print the plan handout (PDF)</a>', url)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            plan = self.get_object(request, object_id)
            if plan is not None and self.has_view_or_change_permission(request, plan):
                AccessLog.objects.record(
                    request, patient=plan.patient, action=AccessLog.VIEW, what=f"Admin plan: {plan}"
                )
        return super().change_view(request, object_id, form_url, extra_context)

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


@admin.register(StepCheck)
class StepCheckAdmin(admin.ModelAdmin):
    list_display = ["local_date", "step", "checked_at"]
    list_select_related = ["step__plan__patient__user", "step__product"]
    date_hierarchy = "local_date"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
