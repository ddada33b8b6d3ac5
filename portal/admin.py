import datetime as dt

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from reminders import sending
from reminders.forms import ReminderPreferencesForm
from routines import adherence
from routines.forms import AssignRoutineForm
from routines.models import IrritationFlag, Plan, Procedure, SkinCheckIn
from routines.services import assign_routine

from .admin_site import ReadOnlyAdmin
from .audit import AccessLoggedAdminMixin
from .forms import PatientAdminForm
from .invitations import issue_invitation, send_invitation, send_password_reset
from .models import AccessLog, Invitation, InvitationRefused, Patient

# The patient's reminder settings: changing any of them re-plans their reminders.
REMINDER_FIELDS = frozenset(ReminderPreferencesForm.Meta.fields)


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
            running = Plan.objects.active_on(today).values("patient_id")
            stale |= Q(time_zone=zone, pk__in=running) & (
                Q(last_check_in_date__isnull=True) | Q(last_check_in_date__lte=today - dt.timedelta(days=3))
            )
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


@admin.register(Patient)
class PatientAdmin(AccessLoggedAdminMixin, admin.ModelAdmin):
    form = PatientAdminForm
    list_display = [
        "full_name",
        "chart_number",
        "date_of_birth",
        "dermatologist",
        "portal_status",
        "adherence_7_days",
        "adherence_30_days",
        "last_check_in",
    ]
    list_filter = [NotCheckedInFilter, "dermatologist", "email_consent", "reminders_paused"]
    readonly_fields = [
        "adherence_7_days",
        "adherence_30_days",
        "last_check_in",
        "plans_and_handouts",
        "procedures",
        "skin",
    ]
    change_form_template = "admin/portal/patient/change_form.html"
    search_fields = ["chart_number", "user__first_name", "user__last_name", "user__email"]
    list_select_related = ["user", "dermatologist"]
    autocomplete_fields = []
    actions = ["send_portal_invitation", "send_password_reset_email"]
    fieldsets = [
        (None, {"fields": ["first_name", "last_name", "email", "chart_number", "date_of_birth", "phone"]}),
        ("Care", {"fields": ["dermatologist", "time_zone", "preferred_language"]}),
        (
            "Reminders",
            {
                "fields": [
                    "email_consent",
                    "sms_consent",
                    "morning_reminder_time",
                    "evening_reminder_time",
                    "reminders_paused",
                    "paused_until",
                ]
            },
        ),
        (
            "Routine",
            {
                "fields": [
                    "skin",
                    "plans_and_handouts",
                    "procedures",
                    "adherence_7_days",
                    "adherence_30_days",
                    "last_check_in",
                ]
            },
        ),
    ]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and REMINDER_FIELDS.intersection(form.changed_data):
            # Reminders are planned up to a day and a half ahead: re-plan them, as the
            # patient's own settings page does, or they would still go out at the old time.
            sending.replan_patient(patient=obj, now=timezone.now())

    def get_queryset(self, request):
        # One subquery for the last check-in and five prefetch queries (plans, steps,
        # ticks, phases, procedures) for the whole page's adherence, however many
        # patients are listed.
        return (
            super()
            .get_queryset(request)
            .annotate(last_check_in_date=adherence.last_check_in_subquery())
            .annotate(skin_flagged=Exists(IrritationFlag.objects.open().filter(patient=OuterRef("pk"))))
            .prefetch_related(adherence.prefetch_plans(timezone.localdate()))
        )

    class Media:
        css = {"all": ["css/routines.css"]}  # the skin-flag badge

    def _sees_skin(self, request) -> bool:
        return request.user.has_perm("routines.view_irritationflag")

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        return [*shown[:1], "skin_flag", *shown[1:]] if self._sees_skin(request) else shown

    def get_list_filter(self, request):
        shown = super().get_list_filter(request)
        return [SkinFlagFilter, *shown] if self._sees_skin(request) else shown

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

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets[:-1]
        if not self._sees_skin(request):  # check-ins are clinical: dermatologists only
            return [(name, {**opts, "fields": [f for f in opts["fields"] if f != "skin"]}) for name, opts in fieldsets]
        return fieldsets

    def _adherence(self, patient, days):
        plans = getattr(patient, "adherence_plans", None)
        if plans is None:
            return "–"
        return str(adherence.adherence(plans, today=patient.local_today(), days=days))

    @admin.display(description="Adherence, 7 days")
    def adherence_7_days(self, patient):
        return self._adherence(patient, 7)

    @admin.display(description="Adherence, 30 days")
    def adherence_30_days(self, patient):
        return self._adherence(patient, 30)

    @admin.display(description="Last check-in", ordering="last_check_in_date")
    def last_check_in(self, patient):
        return getattr(patient, "last_check_in_date", None) or "Never"

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

    def patient_of(self, patient):
        return patient

    # Lookups that reveal skin problems: refused (400) for staff who may not see skin check-ins,
    # not merely hidden from their filter sidebar.
    CLINICAL_LOOKUPS = frozenset({"skin_flagged", "irritation_flags", "skin_check_ins", "skin"})

    def lookup_allowed(self, lookup, value, request=None):
        field = lookup.split("__", 1)[0]
        if field in self.CLINICAL_LOOKUPS and (request is None or not self._sees_skin(request)):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_urls(self):
        urls = [
            path(
                "<int:patient_id>/assign-routine/",
                self.admin_site.admin_view(self.assign_routine_view),
                name="portal_patient_assign_routine",
            ),
            path(
                "<int:patient_id>/issue-invitation/",
                self.admin_site.admin_view(self.issue_invitation_view),
                name="portal_patient_issue_invitation",
            ),
        ]
        return urls + super().get_urls()

    def issue_invitation_view(self, request, patient_id):
        """POST: issue a fresh invitation (revoking older ones) and offer its letter; GET changes nothing."""
        if not self.has_invite_permission(request):
            raise PermissionDenied
        patient = get_object_or_404(Patient.objects.select_related("user"), pk=patient_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            issue_invitation(patient=patient, request=request)
        except InvitationRefused as refused:
            self.message_user(request, str(refused), messages.ERROR)
        else:
            self.message_user(
                request,
                format_html(
                    'Invitation issued for {}. <a href="{}">Print the invitation letter</a>.',
                    patient.full_name,
                    reverse("handouts:patient-invite", args=[patient.pk]),
                ),
                messages.SUCCESS,
            )
        return redirect("admin:portal_patient_change", patient.pk)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_assign_routine": request.user.has_perm("routines.add_plan"),
            "can_print_handout": request.user.has_perm("portal.print_handout"),
            "can_invite": self.has_invite_permission(request),
            "open_invitation": Invitation.objects.unexpired().filter(patient_id=object_id).exists(),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def assign_routine_view(self, request, patient_id):
        """Copy a routine template into a new plan for this patient, then edit its steps on the plan page."""
        if not request.user.has_perm("routines.add_plan"):
            raise PermissionDenied
        patient = get_object_or_404(Patient.objects.select_related("user"), pk=patient_id)
        form = AssignRoutineForm(request.POST or None, initial={"start_date": patient.local_today()})
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
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/portal/patient/assign_routine.html", context)

    @admin.display(description="Name", ordering="user__last_name")
    def full_name(self, patient):
        return patient.full_name

    @admin.display(description="Portal")
    def portal_status(self, patient):
        if patient.user.has_usable_password():
            return format_html('<span title="{}">Active</span>', "Has set a password")
        return "Not activated"

    @admin.action(description="Send portal invitation", permissions=["invite"])
    def send_portal_invitation(self, request, queryset):
        """Email an activation link to patients who have never set a password; skip the rest, saying why."""
        sent = 0
        for patient in queryset.select_related("user"):
            if not patient.user.email:
                self.message_user(request, f"{patient} has no email address.", messages.WARNING)
            elif patient.is_activated:
                self.message_user(
                    request,
                    f"{patient} already uses the portal: no invitation sent. Use “Email a password reset link”.",
                    messages.WARNING,
                )
            else:
                send_invitation(patient=patient, request=request)
                sent += 1
        if sent:
            self.message_user(request, f"Sent {sent} portal invitation(s).", messages.SUCCESS)

    @admin.action(description="Email a password reset link", permissions=["invite"])
    def send_password_reset_email(self, request, queryset):
        """For active patients: Django's reset email, to the patient's own address; staff never see the link."""
        sent = sum(send_password_reset(patient=patient, request=request) for patient in queryset.select_related("user"))
        skipped = queryset.count() - sent
        if sent:
            self.message_user(request, f"Emailed {sent} password reset link(s).", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} patient(s) have not activated the portal or have no email: send an invitation instead.",
                messages.WARNING,
            )

    def has_invite_permission(self, request):
        return request.user.has_perm("portal.invite_patient")


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ["patient", "created_at", "created_by", "used_at", "revoked_at"]
    list_select_related = ["patient__user", "created_by"]


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "action", "patient", "what", "ip_address"]
    list_filter = ["action", ("user", admin.RelatedOnlyFieldListFilter), ("patient", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["user", "patient__user"]
    search_fields = ["what", "patient__chart_number", "user__username"]
    date_hierarchy = "at"
