from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponseNotAllowed, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html

from .admin_site import ReadOnlyAdmin
from .audit import AccessLoggedAdminMixin
from .forms import REMINDER_FIELDS, PatientAdminForm
from .history import HistoryAdmin
from .invitations import issue_invitation, send_invitation, send_password_reset
from .models import AccessLog, Invitation, InvitationRefused, Patient


class CappedPaginator(Paginator):
    """Counts at most `cap` rows, so a page of a table of millions costs what a page of a small one does.

    COUNT(*) over millions of rows (and the OFFSET of their last page) takes
    seconds; the newest rows are the ones staff read, and older ones are a
    filter or a search away.
    """

    cap = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.cap].count()


class LargeTableAdmin(admin.ModelAdmin):
    """A list over millions of rows (access log, reminders, ticks): every page and filter in constant time.

    Counts stop at `CappedPaginator.cap`; only indexed columns sort
    (`sortable_by`); no date hierarchy (it reads every row's date), a date
    filter instead; search finds one person's rows by exact chart number,
    username or email, so it uses the row's patient (and user) index
    instead of scanning the table for a substring.
    """

    paginator = CappedPaginator
    show_full_result_count = False
    search_fields = ["=patient__chart_number"]  # shows the box; `get_search_results` does the work
    search_help_text = (
        "A patient's chart number, or a username or email. Lists show the newest 10,000 rows: "
        "filter by date or search to reach older ones."
    )
    patient_path = "patient"  # how a row reaches its patient
    user_path = None  # and its user, if it has one of its own (the access log's staff member)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        # Evaluated here (two small queries): literal ids let the database use the row's indexes.
        users = list(
            get_user_model()
            .objects.filter(Q(username__iexact=term) | Q(email__iexact=term))
            .values_list("pk", flat=True)
        )
        patients = list(
            Patient.objects.filter(Q(chart_number__iexact=term) | Q(user__in=users)).values_list("pk", flat=True)
        )
        matches = Q(**{f"{self.patient_path}__in": patients})
        if self.user_path:
            matches |= Q(**{f"{self.user_path}__in": users})
        return queryset.filter(matches), False


@admin.register(Patient)
class PatientAdmin(AccessLoggedAdminMixin, HistoryAdmin):
    # Old copies are read, never brought back (old phone numbers and consents).
    history_restore = False
    """The patient page: identity, care, reminder settings and the portal invitation.

    The apps built on portal add their own panels by registering a subclass in
    their admin.py (routines: the routine, adherence and skin panels;
    reminders: re-planning on a change of reminder settings).
    """

    form = PatientAdminForm
    list_display = ["full_name", "chart_number", "date_of_birth", "dermatologist", "portal_status"]
    list_filter = ["dermatologist", "email_consent", "reminders_paused"]
    change_form_template = "admin/portal/patient/change_form.html"
    search_fields = ["chart_number", "user__first_name", "user__last_name", "user__email"]
    # The user is joined (the list sorts by name); the few dermatologists come in one more query
    # rather than a second join of the whole user table.
    list_select_related = ["user"]
    autocomplete_fields = []
    actions = ["send_portal_invitation", "send_password_reset_email"]
    fieldsets = [
        (None, {"fields": ["first_name", "last_name", "email", "chart_number", "date_of_birth", "phone"]}),
        ("Care", {"fields": ["dermatologist", "time_zone", "preferred_language"]}),
        ("Reminders", {"fields": REMINDER_FIELDS}),
    ]

    def patient_of(self, patient):
        return patient

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("dermatologist")

    def get_urls(self):
        urls = [
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
            "can_invite": self.has_invite_permission(request),
            "open_invitation": Invitation.objects.unexpired().filter(patient_id=object_id).exists(),
        }
        return super().change_view(request, object_id, form_url, extra_context)

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
class AccessLogAdmin(LargeTableAdmin, ReadOnlyAdmin):
    """Millions of rows within weeks: patients and users are found by search, never listed in a filter.

    Append-only here as everywhere (no add, change or delete); dermatologists and superusers may take the
    selected rows, or with "select all" every row the filters and search match, out as CSV.
    """

    list_display = ["at", "user", "action", "patient", "what", "ip_address"]
    list_filter = ["action", ("at", admin.DateFieldListFilter)]
    list_select_related = ["user", "patient__user"]
    sortable_by = ["at"]
    user_path = "user"
    actions = ["export_csv"]

    def has_export_permission(self, request) -> bool:
        """Dermatologists and superusers: the log says who looked at which patient, so the desk may not take it."""
        return self.has_view_permission(request) and request.user.has_perm("portal.export_accesslog")

    @admin.action(description="Export the selected rows as CSV", permissions=["export"])
    def export_csv(self, request, queryset):
        """Streamed from the database in chunks, so "select all" over millions of rows keeps memory flat."""
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        across = request.POST.get("select_across") == "1"
        rows = f"all rows matching {request.GET.urlencode() or 'no filter'}" if across else f"{len(selected)} rows"
        logged = AccessLog.objects.record_export(request, rows=rows)
        # The rows are read as the response streams, after this export's own row was written: not part of it.
        queryset = queryset.exclude(pk=logged.pk) if logged else queryset
        response = StreamingHttpResponse(queryset.csv_lines(), content_type="text/csv; charset=utf-8")
        filename = f"access-log-{timezone.now():%Y%m%d-%H%M%S}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
