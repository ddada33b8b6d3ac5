import datetime as dt

from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from education.admin import PatientAdmin as BasePatientAdmin
from portal.admin import LargeTableAdmin
from portal.admin_site import ReadOnlyAdmin
from portal.audit import AccessLoggedAdminMixin
from portal.history import HistoryAdmin
from portal.models import AccessLog, Patient

from . import adherence, schedule
from .forms import (
    PHASE_FIELDS,
    STEP_FIELDS,
    AssignRoutineForm,
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
from .services import assign_routine


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "brand", "category", "spf"]
    list_filter = ["category"]
    search_fields = ["name", "brand", "key_ingredients"]
    autocomplete_fields = ["default_article"]


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


class StepInline(admin.StackedInline):
    """A template's or a plan's steps, edited on its page, each with a read-only "Ramp-up" line
    linking to the step's own page where phases are edited.

    Django's admin cannot nest inlines, so phases live one click away.
    """

    form = StepForm
    formset = StepFormSet
    fields = [*STEP_FIELDS, "ramp_up"]
    readonly_fields = ["ramp_up"]
    extra = 0
    autocomplete_fields = ["product", "article"]

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


class TemplateStepInline(StepInline):
    model = TemplateStep


@admin.register(RoutineTemplate)
class RoutineTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "created_by", "created_at"]
    list_select_related = ["created_by"]
    search_fields = ["name"]
    autocomplete_fields = ["articles"]  # titles of the chosen ones only, not thousands of articles
    inlines = [TemplateStepInline]
    exclude = ["created_by"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class PlanStepInline(StepInline):
    model = PlanStep


@admin.register(Plan)
class PlanAdmin(AccessLoggedAdminMixin, HistoryAdmin):
    # Read-only history: restoring a plan would not bring back its steps.
    history_restore = False
    form = PlanForm
    list_display = ["name", "patient", "status", "start_date", "end_date", "version", "assigned_by"]
    list_filter = ["status", "template"]
    list_select_related = ["patient__user", "assigned_by"]
    # Sorting a year of plans by an unindexed column reads them all; status and template are filters.
    sortable_by = ["patient", "start_date"]
    search_fields = ["name", "patient__chart_number", "patient__user__last_name"]
    autocomplete_fields = ["articles"]  # titles of the chosen ones only, not thousands of articles
    raw_id_fields = ["patient"]
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
class CautionAcknowledgementAdmin(LargeTableAdmin, ReadOnlyAdmin):
    """Read-only record of patients confirming they understood a step's caution."""

    list_display = ["acknowledged_at", "patient", "step", "plan_version", "caution"]
    list_filter = [("acknowledged_at", admin.DateFieldListFilter)]
    list_select_related = ["patient__user", "step__product"]
    sortable_by = ["acknowledged_at"]


@admin.register(SkinCheckIn)
class SkinCheckInAdmin(LargeTableAdmin, ReadOnlyAdmin):
    """What patients tapped under "How does your skin feel today?". Read-only."""

    list_display = ["local_date", "patient", "feeling", "recorded_at"]
    list_filter = ["feeling", ("local_date", admin.DateFieldListFilter)]
    list_select_related = ["patient__user"]
    sortable_by = ["local_date"]


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
class StepCheckAdmin(LargeTableAdmin, ReadOnlyAdmin):
    list_display = ["local_date", "step", "checked_at"]
    list_filter = [("local_date", admin.DateFieldListFilter)]
    list_select_related = ["step__product"]  # what `step` shows; the plan and patient are a search away
    sortable_by = ["local_date"]
    patient_path = "step__plan__patient"


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
    autocomplete_fields = ["product", "article"]
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
class PlanStepAdmin(AccessLoggedAdminMixin, HistoryAdmin, StepAdmin):
    history_restore = False
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


# --- The patient page (portal's PatientAdmin): the routine, adherence and skin panels ---


class NotCheckedInFilter(admin.SimpleListFilter):
    """Patients with a running plan whose last tick is 3 or more days ago (or who never ticked).

    "Days" are each patient's own calendar days: one condition per time zone in use.
    """

    title = "check-ins"
    parameter_name = "checkins"

    def lookups(self, request, model_admin):
        return [("stale3", "Not checked in for 3+ days")]

    def queryset(self, request, queryset):
        if self.value() != "stale3":
            return queryset
        now = timezone.now()
        stale = Q(pk__in=[])
        for zone in Patient.objects.values_list("time_zone", flat=True).distinct().order_by():
            today = Patient(time_zone=zone).local_today(now)
            quiet = Q(last_check_in_on__isnull=True) | Q(last_check_in_on__lte=today - dt.timedelta(days=3))
            stale |= Q(time_zone=zone, pk__in=Plan.objects.active_on(today).values("patient_id")) & quiet
        return queryset.filter(stale)


class SkinFlagFilter(admin.SimpleListFilter):
    """Patients whose skin check-ins flagged irritation that no dermatologist has reviewed yet."""

    title = "skin irritation"
    parameter_name = "skin"

    def lookups(self, request, model_admin):
        return [("flagged", "Flagged, not yet reviewed")]

    def queryset(self, request, queryset):
        if self.value() == "flagged":
            return queryset.filter(skin_flagged=True)
        return queryset


admin.site.unregister(Patient)


@admin.register(Patient)
class PatientAdmin(BasePatientAdmin):
    """portal's patient page plus this app's panels: plans and handouts, procedures, adherence, skin check-ins.

    Also the "Assign a routine" page (for staff who may add plans) and the "Print plan" button.
    """

    ROUTINE_FIELDS = [
        "skin",
        "plans_and_handouts",
        "procedures",
        "adherence_7_days",
        "adherence_30_days",
        "last_check_in",
    ]

    list_display = [*BasePatientAdmin.list_display, "adherence_7_days", "adherence_30_days", "last_check_in"]
    list_filter = [NotCheckedInFilter, *BasePatientAdmin.list_filter]
    list_per_page = 50  # each row computes two adherence windows from the plan's schedule
    readonly_fields = [*BasePatientAdmin.readonly_fields, *ROUTINE_FIELDS]
    change_form_template = "admin/routines/patient_change_form.html"

    class Media:
        css = {"all": ["css/routines.css"]}  # the skin-flag badge

    def get_queryset(self, request):
        # Five prefetch queries (plans, steps,
        # ticks, phases, procedures) for the whole page's adherence, however many
        # patients are listed.
        return (
            super()
            .get_queryset(request)
            .annotate(skin_flagged=Exists(IrritationFlag.objects.open().filter(patient=OuterRef("pk"))))
            .prefetch_related(adherence.prefetch_plans(timezone.localdate()))
        )

    def _sees_skin(self, request) -> bool:
        return request.user.has_perm("routines.view_irritationflag")

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        return [*shown[:1], "skin_flag", *shown[1:]] if self._sees_skin(request) else shown

    def get_list_filter(self, request):
        shown = super().get_list_filter(request)
        return [SkinFlagFilter, *shown] if self._sees_skin(request) else shown

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:  # nothing to show before the patient exists
            return fieldsets
        # Check-ins are clinical: dermatologists only.
        fields = [f for f in self.ROUTINE_FIELDS if f != "skin" or self._sees_skin(request)]
        return [*fieldsets, ("Routine", {"fields": fields})]

    # Lookups that reveal skin problems: refused (400) for staff who may not see skin check-ins,
    # not merely hidden from their filter sidebar.
    CLINICAL_LOOKUPS = frozenset({"skin_flagged", "irritation_flags", "skin_check_ins", "skin"})

    def lookup_allowed(self, lookup, value, request=None):
        field = lookup.split("__", 1)[0]
        if field in self.CLINICAL_LOOKUPS and (request is None or not self._sees_skin(request)):
            return False
        return super().lookup_allowed(lookup, value, request)

    @admin.display(description="Skin", ordering="-skin_flagged")
    def skin_flag(self, patient):
        if getattr(patient, "skin_flagged", False):
            return format_html('<span class="skin-flag-badge">{}</span>', "Flagged")
        return ""

    @admin.display(description="Skin check-ins")
    def skin(self, patient):
        """A badge while an irritation flag waits for review, and the last week's answers."""
        flag = IrritationFlag.objects.open().filter(patient=patient).first()
        badge = ""
        if flag is not None:
            badge = format_html(
                '<p><span class="skin-flag-badge">Skin flagged</span> {} (since {}). <a href="{}">Review it</a></p>',
                flag.reason,
                flag.raised_on,
                reverse("admin:routines_irritationflag_change", args=[flag.pk]),
            )
        since = patient.local_today() - dt.timedelta(days=13)
        answers = SkinCheckIn.objects.filter(patient=patient, local_date__gte=since).order_by("-local_date")
        rows = format_html_join(
            ", ", "{}: {}", ((f"{a.local_date:%a %d %b}", a.get_feeling_display().lower()) for a in answers)
        )
        return format_html("{}{}", badge, rows or "No check-ins in the last two weeks.")

    def _adherence(self, patient, days):
        plans = getattr(patient, "adherence_plans", None)
        if plans is None:
            return "–"
        if not hasattr(patient, "adherence_windows"):  # both columns from one pass over the days
            patient.adherence_windows = adherence.adherence_by_window(plans, today=patient.local_today())
        return str(patient.adherence_windows[days])

    @admin.display(description="Adherence, 7 days")
    def adherence_7_days(self, patient):
        return self._adherence(patient, 7)

    @admin.display(description="Adherence, 30 days")
    def adherence_30_days(self, patient):
        return self._adherence(patient, 30)

    @admin.display(description="Last check-in", ordering="last_check_in_on")
    def last_check_in(self, patient):
        return patient.last_check_in_on or "Never"

    @admin.display(description="Plans and handouts")
    def plans_and_handouts(self, patient):
        plan = Plan.objects.filter(patient=patient).exclude(status=Plan.Status.ENDED).order_by("-start_date").first()
        if plan is None:
            return "No current plan."
        return format_html(
            '<a href="{}">{}</a> ({}, version {}) · <a href="{}">Print the plan handout</a>',
            reverse("admin:routines_plan_change", args=[plan.pk]),
            plan.name,
            plan.get_status_display(),
            plan.version,
            reverse("handouts:patient-plan", args=[patient.pk]),
        )

    @admin.display(description="Procedures")
    def procedures(self, patient):
        """Booked procedures (each pauses some steps around its date) and a link to book one."""
        rows = [
            format_html(
                '<li><a href="{}">{}</a>: {}</li>',
                reverse("admin:routines_procedure_change", args=[p.pk]),
                p,
                p.hold.summary().replace("your ", ""),
            )
            for p in Procedure.objects.filter(patient=patient).select_related("type").order_by("-date")[:10]
        ]
        add = format_html(
            '<a href="{}?patient={}">Book a procedure</a>', reverse("admin:routines_procedure_add"), patient.pk
        )
        if not rows:
            return format_html("None booked. {}", add)
        return format_html(
            '<ul class="procedure-list">{}</ul>{}', format_html_join("", "{}", ((r,) for r in rows)), add
        )

    def get_urls(self):
        urls = [
            path(
                "<int:patient_id>/assign-routine/",
                self.admin_site.admin_view(self.assign_routine_view),
                name="portal_patient_assign_routine",
            ),
        ]
        return urls + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_assign_routine": request.user.has_perm("routines.add_plan"),
            "can_print_handout": request.user.has_perm("portal.print_handout"),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def assign_routine_view(self, request, patient_id):
        """Copy a routine template into a new plan for this patient, then edit its steps on the plan page."""
        if not request.user.has_perm("routines.add_plan"):
            raise PermissionDenied
        patient = get_object_or_404(Patient.objects.select_related("user"), pk=patient_id)
        form = AssignRoutineForm(request.POST or None, initial={"start_date": patient.local_today()})
        # Chosen through the admin's autocomplete (as on the plan page), not thousands of checkboxes.
        articles = form.fields["articles"]
        articles.widget = AutocompleteSelectMultiple(Plan._meta.get_field("articles"), self.admin_site)
        articles.widget.choices = articles.choices
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            plan = assign_routine(
                patient=patient,
                template=data["template"],
                start_date=data["start_date"],
                end_date=data["end_date"],
                note=data["note"],
                articles=data["articles"] or None,
                assigned_by=request.user,
            )
            what = f"Assigned routine {plan.name} from {plan.start_date}"
            AccessLog.objects.record(request, patient=patient, action=AccessLog.CHANGE, what=what)
            self.message_user(request, f"Assigned “{plan.name}”. Adjust this patient's steps below.", messages.SUCCESS)
            return redirect("admin:routines_plan_change", plan.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Assign a routine to {patient.full_name}",
            "opts": self.opts,
            "original": patient,
            "patient": patient,
            "form": form,
            "media": self.media + form.media,
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/routines/assign_routine.html", context)
