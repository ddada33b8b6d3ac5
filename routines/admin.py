import datetime as dt
from dataclasses import dataclass, field

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminTextareaWidget, AutocompleteSelectMultiple
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from education.admin import PatientAdmin as BasePatientAdmin
from portal.admin import LargeTableAdmin
from portal.admin_site import ReadOnlyAdmin
from portal.audit import AccessLoggedAdminMixin
from portal.history import HistoryAdmin
from portal.language import language_of
from portal.models import AccessLog, Patient

from . import adherence, chart, conflicts, schedule
from .forms import (
    PHASE_FIELDS,
    STEP_FIELDS,
    STEP_FIELDSETS,
    AssignRoutineForm,
    ListedStepForm,
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
from .signals import schedule_changed
from .worklist import quiet_condition


def log_date(day: dt.date) -> str:
    """A date in staff text and AccessLog rows: the same unambiguous digits whatever the staff user's language."""
    return date_format(day, "Y-m-d")


def hold_text(hold: schedule.Hold) -> str:
    """A hold in staff words: "2027-03-05 to 2027-03-14 for chemical peel on 2027-03-12 (restart 2027-03-15)"."""
    first, last, on, restart = (log_date(d) for d in (hold.first, hold.last, hold.on, hold.resume_on))
    return f"{first} to {last} for {hold.what} on {on} (restart {restart})"


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
        return hold_text(procedure.hold)

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
        what = f"{'Moved' if change else 'Booked'} {obj.type} on {log_date(obj.date)}"
        AccessLog.objects.record(request, patient=obj.patient, action=AccessLog.CHANGE, what=what)

    def delete_model(self, request, obj):
        AccessLog.objects.record(request, patient=obj.patient, action=AccessLog.CHANGE, what=f"Cancelled {obj}")
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for procedure in queryset.select_related("patient", "type"):
            what = f"Cancelled {procedure}"
            AccessLog.objects.record(request, patient=procedure.patient, action=AccessLog.CHANGE, what=what)
        super().delete_queryset(request, queryset)


# --- The builder: a template's or plan's steps as one compact table, each step edited on its own page ---


@dataclass
class BuilderRow:
    """One step as the builder's table shows it: its schedule in words, marks, and notes beside it
    (conflicts and holds, in staff words)."""

    step: object
    edit_url: str
    missing_spanish: list[str]
    notes: list[str] = field(default_factory=list)
    place: int = 1  # among the steps of its slot, from 1
    first_in_slot: bool = False
    last_in_slot: bool = False


def builder_order(steps) -> list:
    """Steps as the patient meets them: by slot (morning, evening, any time), then order, then as entered."""
    return sorted(steps, key=lambda step: (schedule.SLOTS.index(step.slot), step.order, step.pk))


def clash_notes(parent, steps) -> dict:
    """{step pk: [message]} for each pair of steps that breaks a conflict rule, on both steps of the pair.

    Saving refuses a clash; these are the ones a rule added later left behind. Only pairs
    some rule names are walked day by day (`parent.conflict_error`).
    """
    rules = ConflictRule.objects.values_for_check()
    items = {step.pk: conflicts.item_of(step, step.phase_values()) for step in steps}
    notes = {}
    for n, first in enumerate(steps):
        for second in steps[n + 1 :]:
            a, b = items[first.pk], items[second.pk]
            if not conflicts.slots_meet(a.slot, b.slot) or not any(rule.forbids(a, b) for rule in rules):
                continue
            message = parent.conflict_error([a, b])
            if message:
                notes.setdefault(first.pk, []).append(message)
                notes.setdefault(second.pk, []).append(message)
    return notes


class StepInline(admin.TabularInline):
    """A template's or a plan's steps on its page, shown as the builder's compact table.

    The step forms are still posted with the page (as hidden fields: saving the page keeps
    them as they are, and the same formset validation applies), but each step is changed on
    its own page, with its ramp-up phases: Django's admin cannot nest inlines.
    """

    form = StepForm
    formset = StepFormSet
    fields = STEP_FIELDS
    extra = 0
    template = "admin/routines/edit_inline/step_builder.html"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product").prefetch_related("phases")


class TemplateStepInline(StepInline):
    model = TemplateStep
    form = ListedStepForm


class PlanStepInline(StepInline):
    model = PlanStep


class StepBuilderAdmin(admin.ModelAdmin):
    """The change page of a template or a plan: its steps as the builder's table, with up/down buttons
    (POSTs, no JavaScript needed), an "Add a step" link and each step's own page one click away."""

    change_form_template = "admin/routines/builder_change_form.html"
    step_parent = ""  # the steps' field naming this template or plan
    formfield_overrides = {models.TextField: {"widget": AdminTextareaWidget(attrs={"rows": 3})}}

    class Media:
        css = {"all": ["routines/admin.css"]}
        js = ["routines/builder.js"]  # drag to reorder; the ↑/↓ buttons work without it

    def builder_steps(self, parent) -> list:
        """The parent's steps with products and phases (plans: and the patient's procedures, for holds)."""
        return list(parent.steps.select_related("product").prefetch_related("phases"))

    def builder_notes(self, parent, steps) -> dict:
        """{step pk: [note]} shown beside each step: the conflicts it is part of."""
        return clash_notes(parent, steps)

    def builder(self, request, parent) -> dict:
        """What the builder's template shows: the rows in order, the links and what this user may do."""
        steps = builder_order(self.builder_steps(parent))
        notes = self.builder_notes(parent, steps)
        step_name = self.inlines[0].model._meta.model_name
        rows = []
        for n, step in enumerate(steps):
            first_in_slot = n == 0 or steps[n - 1].slot != step.slot
            rows.append(
                BuilderRow(
                    step=step,
                    place=1 if first_in_slot else rows[-1].place + 1,
                    edit_url=reverse(f"admin:routines_{step_name}_change", args=[step.pk]),
                    missing_spanish=step.missing_spanish(),
                    notes=notes.get(step.pk, []),
                    first_in_slot=first_in_slot,
                    last_in_slot=n == len(steps) - 1 or steps[n + 1].slot != step.slot,
                )
            )
        can_change = self.has_change_permission(request, parent)
        can_add = can_change and request.user.has_perm(f"routines.add_{step_name}")
        opts = self.opts
        return {
            "rows": rows,
            "can_change": can_change,
            "move_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_move_step", args=[parent.pk]),
            "add_url": f"{reverse(f'admin:routines_{step_name}_add')}?{urlencode({self.step_parent: parent.pk})}"
            if can_add
            else "",
            "missing_spanish": [row.step.title for row in rows if row.missing_spanish],
        }

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            context["builder"] = self.builder(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        opts = self.opts
        name = f"{opts.app_label}_{opts.model_name}_move_step"
        move = path("<path:object_id>/move-step/", self.admin_site.admin_view(self.move_step_view), name=name)
        return [move, *super().get_urls()]

    def move_step_view(self, request, object_id):
        """POST move=up:<step id>, down:<step id> or to:<step id>:<n> (n-th of its slot, from 1; what
        dragging a row posts): the step changes place among the steps of its slot.

        The whole parent's steps are renumbered 1, 2, 3… in the table's order (each saved, so a
        plan step's history records it); then `steps_reordered` (a plan raises its version).
        """
        return require_POST(self._move_step)(request, object_id)

    @transaction.atomic
    def _move_step(self, request, object_id):
        parent = self.get_object(request, unquote(object_id))
        if parent is None:
            raise Http404
        if not self.has_change_permission(request, parent):
            raise PermissionDenied
        direction, _, rest = request.POST.get("move", "").partition(":")
        step_id, _, place = rest.partition(":")
        steps = builder_order(parent.steps.select_for_update(of=("self",)).select_related("product"))
        step = next((s for s in steps if str(s.pk) == step_id), None)
        change_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[parent.pk])
        if step is None or direction not in ("up", "down", "to") or (direction == "to") != place.isdigit():
            self.message_user(request, "That step is not on this page any more; nothing was moved.", messages.ERROR)
            return redirect(change_url)
        by_slot = {name: [s for s in steps if s.slot == name] for name in schedule.SLOTS}
        siblings = by_slot[step.slot]
        here = siblings.index(step)
        there = {"up": here - 1, "down": here + 1}.get(direction, int(place or 0) - 1)
        there = min(max(there, 0), len(siblings) - 1)
        if there != here:
            siblings.insert(there, siblings.pop(here))
            for order, each in enumerate((s for name in schedule.SLOTS for s in by_slot[name]), start=1):
                if each.order != order:
                    each.order = order
                    each.save(update_fields=["order"])
            self.steps_reordered(request, parent, step)
            words = f"to place {there + 1}" if direction == "to" else direction
            self.message_user(request, f"Moved “{step.title}” {words}.", messages.SUCCESS)
        return redirect(f"{change_url}#step-{step.pk}")

    def steps_reordered(self, request, parent, step) -> None:
        """Called after a move (inside its transaction). Plans raise their version and log it."""


@admin.register(RoutineTemplate)
class RoutineTemplateAdmin(StepBuilderAdmin):
    list_display = ["name", "created_by", "created_at"]
    list_select_related = ["created_by"]
    search_fields = ["name"]
    autocomplete_fields = ["articles"]  # titles of the chosen ones only, not thousands of articles
    inlines = [TemplateStepInline]
    step_parent = "template"
    fields = [("name", "name_es"), "description", "articles"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Plan)
class PlanAdmin(AccessLoggedAdminMixin, HistoryAdmin, StepBuilderAdmin):
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
    fieldsets = [
        (
            None,
            {"fields": ["patient", ("name", "status"), ("start_date", "end_date"), "note", "articles", "seen_version"]},
        ),
        ("In Spanish", {"fields": ["name_es", "note_es"]}),
        (
            "Record",
            {
                "fields": [("version", "template", "assigned_by"), "handout_link", "caution_acknowledgements"],
                "classes": ["collapse"],
            },
        ),
    ]
    inlines = [PlanStepInline]
    step_parent = "plan"

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
                    date_format(timezone.localtime(ack.acknowledged_at), "DATETIME_FORMAT"),
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

    def builder_steps(self, plan) -> list:
        models.prefetch_related_objects([plan], *Plan.schedule_prefetches())
        return plan.ordered_steps()

    def builder_notes(self, plan, steps) -> dict:
        """Conflicts, and the holds of the patient's procedures from today on, beside each step."""
        notes = super().builder_notes(plan, steps)
        for step, holds in plan.timetable().holds_from(plan.patient.local_today()).items():
            notes.setdefault(step.pk, []).extend(f"Paused {hold_text(hold)}" for hold in holds)
        return notes

    def builder(self, request, plan) -> dict:
        """The builder; for a patient who reads Spanish, also which steps they would read in English."""
        shown = super().builder(request, plan)
        shown["reads_spanish"] = language_of(plan.patient) == "es"
        return shown

    def steps_reordered(self, request, plan, step) -> None:
        plan.bump_version()
        what = f"Moved step {step.title} of plan {plan.name}, now version {plan.version}"
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
        # Only flags still open: a double click must not move the review date (the end of a ramp hold).
        IrritationFlag.objects.open().filter(pk__in=[f.pk for f in flags]).update(
            reviewed_at=timezone.now(), reviewed_by=request.user
        )
        # A review ends a ramp hold: the steps due from here on change.
        schedule_changed.send(IrritationFlag, patient_ids={flag.patient_id for flag in flags})
        for flag in flags:
            what = f"Reviewed skin irritation flag of {log_date(flag.raised_on)}"
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
    """A step's own page: its fields (each text with its Spanish under it) and its ramp-up phases.

    Reached from the builder on its template's or plan's page (the step's name, or "Add a step",
    which names the parent: `?plan=<id>` or `?template=<id>`), not from the admin index; saving or
    deleting goes back there. The phases' formset checks the step against its siblings' conflicts.
    """

    form = StepForm
    autocomplete_fields = ["product", "article"]
    change_form_template = "admin/routines/step_change_form.html"
    parent_field = ""  # "template" or "plan"

    class Media:
        css = {"all": ["routines/admin.css"]}

    def get_fieldsets(self, request, obj=None):
        (name, options), *rest = STEP_FIELDSETS
        first = [self.parent_field, *options["fields"]] if obj is not None else options["fields"]
        return [(name, {**options, "fields": first}), *rest]

    def get_readonly_fields(self, request, obj=None):
        return [self.parent_field] if obj is not None else []

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(self.parent_field)

    def get_model_perms(self, request):
        return {}  # hidden from the index; steps are reached from their template or plan page

    def get_actions(self, request):
        return {}  # removed one at a time on its own page, so a plan's version and log follow each

    def parent_from(self, request):
        """The template or plan a new step is added to, named in the query string (404 if none)."""
        parent_model = self.model._meta.get_field(self.parent_field).related_model
        value = request.GET.get(self.parent_field, "")
        if not value.isdigit():
            raise Http404
        return get_object_or_404(parent_model, pk=value)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            return form
        parent, field_name = self.parent_from(request), self.parent_field

        class NewStepForm(form):
            # The new step belongs to its parent before validation: the phases' conflict check needs its siblings.
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                setattr(self.instance, field_name, parent)

        return NewStepForm

    def get_changeform_initial_data(self, request):
        return {"order": self.parent_from(request).steps.count() + 1}

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        parent = self.parent_from(request) if obj is None else getattr(obj, self.parent_field)
        context.update(
            step_parent=parent,
            parent_url=self.parent_url(parent),
            show_save_and_add_another=False,  # "add another" would lose the parent; "Add a step" is on its page
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    @staticmethod
    def parent_url(parent) -> str:
        return reverse(f"admin:routines_{parent._meta.model_name}_change", args=[parent.pk])

    def _back_to_parent(self, request, obj, done: str):
        self.message_user(request, f"{done} “{obj.title}”.", messages.SUCCESS)
        return redirect(self.parent_url(getattr(obj, self.parent_field)))

    def response_add(self, request, obj, post_url_continue=None):
        if "_continue" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        return self._back_to_parent(request, obj, "Added")

    def response_change(self, request, obj):
        if "_continue" in request.POST:
            return super().response_change(request, obj)
        return self._back_to_parent(request, obj, "Saved")

    def delete_view(self, request, object_id, extra_context=None):
        step = self.get_object(request, unquote(object_id))
        response = super().delete_view(request, object_id, extra_context)
        if request.method == "POST" and step is not None and response.status_code == 302:
            return self._back_to_parent(request, step, "Removed")
        return response


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
        """Adding a step to a plan, or editing one or its phases, raises the plan's version, as on the plan page."""
        super().save_related(request, form, formsets, change)
        phases_changed = any(fs.new_objects or fs.changed_objects or fs.deleted_objects for fs in formsets)
        if not change or form.has_changed() or phases_changed:
            self._plan_changed(request, form.instance, "Edited" if change else "Added")

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        self._plan_changed(request, obj, "Removed")

    def _plan_changed(self, request, step, done: str) -> None:
        plan = step.plan
        plan.bump_version()
        what = f"{done} step {step.title} of plan {plan.name}, now version {plan.version}"
        AccessLog.objects.record(request, patient=plan.patient, action=AccessLog.CHANGE, what=what)


# --- The patient page (portal's PatientAdmin): the routine, adherence and skin panels ---


class NotCheckedInFilter(admin.SimpleListFilter):
    """Patients with a running plan whose last tick is 3 or more of their own days ago (or who never ticked):
    the worklist's "quiet" patients (`worklist.quiet_condition`)."""

    title = "check-ins"
    parameter_name = "checkins"

    def lookups(self, request, model_admin):
        return [("stale3", "Not checked in for 3+ days")]

    def queryset(self, request, queryset):
        if self.value() != "stale3":
            return queryset
        return queryset.filter(quiet_condition(timezone.now()))


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

    ADHERENCE_FIELDS = ("adherence_7_days", "adherence_30_days", "last_check_in")

    list_display = [*BasePatientAdmin.list_display, *ADHERENCE_FIELDS]
    list_filter = [NotCheckedInFilter, *BasePatientAdmin.list_filter]
    list_per_page = 50  # each row computes two adherence windows from the plan's schedule
    readonly_fields = [*BasePatientAdmin.readonly_fields, *ROUTINE_FIELDS]
    change_form_template = "admin/routines/patient_change_form.html"

    class Media:
        css = {"all": ["css/routines.css", "routines/admin.css"]}  # the skin-flag badge; the adherence chart

    def get_queryset(self, request):
        patients = (
            super()
            .get_queryset(request)
            .annotate(skin_flagged=Exists(IrritationFlag.objects.open().filter(patient=OuterRef("pk"))))
        )
        if not self._sees_adherence(request):
            return patients  # the front desk sees no adherence: none of its queries
        # Five prefetch queries (plans, steps, ticks, phases, procedures) for the whole page's adherence,
        # however many patients are listed.
        return patients.prefetch_related(adherence.prefetch_plans(timezone.localdate()))

    def _sees_skin(self, request) -> bool:
        return request.user.has_perm("routines.view_irritationflag")

    def _sees_adherence(self, request) -> bool:
        return request.user.has_perm("routines.view_stepcheck")

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        if not self._sees_adherence(request):
            shown = [name for name in shown if name not in self.ADHERENCE_FIELDS]
        return [*shown[:1], "skin_flag", *shown[1:]] if self._sees_skin(request) else shown

    def get_list_filter(self, request):
        shown = super().get_list_filter(request)
        if not self._sees_adherence(request):
            shown = [choice for choice in shown if choice is not NotCheckedInFilter]
        return [SkinFlagFilter, *shown] if self._sees_skin(request) else shown

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:  # nothing to show before the patient exists
            return fieldsets
        # Check-ins and adherence are clinical: dermatologists only.
        hidden = set()
        if not self._sees_skin(request):
            hidden.add("skin")
        if not self._sees_adherence(request):
            hidden.update(self.ADHERENCE_FIELDS)
        return [*fieldsets, ("Routine", {"fields": [f for f in self.ROUTINE_FIELDS if f not in hidden]})]

    # Lookups that reveal skin problems or who has stopped ticking: refused (400) for staff who may not
    # see skin check-ins or adherence, not merely hidden from their filter sidebar.
    CLINICAL_LOOKUPS = frozenset({"skin_flagged", "irritation_flags", "skin_check_ins", "skin"})
    ADHERENCE_LOOKUPS = frozenset({"last_check_in_on"})

    def lookup_allowed(self, lookup, value, request=None):
        field = lookup.split("__", 1)[0]
        if field in self.CLINICAL_LOOKUPS and (request is None or not self._sees_skin(request)):
            return False
        if field in self.ADHERENCE_LOOKUPS and (request is None or not self._sees_adherence(request)):
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
            ", ", "{}: {}", ((date_format(a.local_date, "D j M"), a.get_feeling_display().lower()) for a in answers)
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
        response = super().change_view(request, object_id, form_url, extra_context)
        patient = (getattr(response, "context_data", None) or {}).get("original")
        if request.method == "GET" and response.status_code == 200 and patient is not None:
            response.context_data.update(self.adherence_chart(request, patient))
        return response

    def adherence_chart(self, request, patient) -> dict:
        """The chart's context, for staff who may read ticks (dermatologists): `?chart=90` for 90 days."""
        if not self._sees_adherence(request):
            return {}
        days = int(request.GET["chart"]) if request.GET.get("chart") in {str(n) for n in chart.WINDOWS} else 30
        # The page's queryset has the plans and ticks for 30 days already (`adherence.prefetch_plans`).
        plans = patient.adherence_plans if days <= max(adherence.WINDOWS) else None
        shown = chart.build(patient, days=days, plans=plans)
        if not self._sees_skin(request):
            shown.check_ins = []
        return {
            "adherence_chart": shown,
            "chart_layout": chart.layout(shown),
            "chart_days": days,
            "chart_windows": chart.WINDOWS,
        }

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
            untranslated = [step.title for step in builder_order(plan.ordered_steps()) if step.missing_spanish()]
            if language_of(patient) == "es" and untranslated:
                names = ", ".join(untranslated)
                warning = f"This patient reads Spanish; these steps have no Spanish text yet: {names}."
                self.message_user(request, warning, messages.WARNING)
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
