"""Admin for reminders: a read-only log with one action, and re-planning from the patient page."""

from django.contrib import admin, messages
from django.utils import timezone

from portal.admin import LargeTableAdmin
from portal.admin_site import ReadOnlyAdmin
from portal.models import Patient
from routines.admin import PatientAdmin as RoutinesPatientAdmin

from .forms import ReminderPreferencesForm
from .models import DIGEST, Reminder
from .planning import replan_patient


class KindFilter(admin.SimpleListFilter):
    """Step reminders or weekly digests. Not morning vs evening: newest first, a day's evening rows come
    before its mornings, so "morning only" would walk a whole clinic's evening before the first row."""

    title = "kind"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [("steps", "Step reminders"), ("digest", "Weekly digests")]

    def queryset(self, request, queryset):
        if self.value() == "steps":
            return queryset.exclude(slot=DIGEST)
        if self.value() == "digest":
            return queryset.filter(slot=DIGEST)
        return queryset


@admin.register(Reminder)
class ReminderAdmin(LargeTableAdmin, ReadOnlyAdmin):
    """Millions of rows after a year: sorted and drilled down by `due_at` (indexed), found by patient."""

    list_display = ["due_at", "patient", "slot", "local_date", "channel", "status", "attempts", "short_error"]
    list_filter = ["status", "channel", ("due_at", admin.DateFieldListFilter), KindFilter]
    list_select_related = ["patient__user"]
    sortable_by = ["due_at"]
    ordering = ["-due_at"]
    actions = ["retry_failed"]
    readonly_fields = [f.name for f in Reminder._meta.fields]

    def has_retry_permission(self, request):
        return request.user.has_perm("reminders.change_reminder")

    @admin.display(description="error")
    def short_error(self, obj):
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error

    @admin.action(description="Retry failed reminders", permissions=["retry"])
    def retry_failed(self, request, queryset):
        count = queryset.filter(status=Reminder.Status.FAILED).back_to_pending()  # other statuses are left alone
        self.message_user(
            request,
            f"{count} failed reminder(s) queued again; any older than the grace window will be skipped.",
            messages.SUCCESS,
        )


# The patient's reminder settings: changing any of them on the patient page re-plans their reminders.
REMINDER_FIELDS = frozenset([*ReminderPreferencesForm.Meta.fields, "step_reminders", "weekly_digest"])

admin.site.unregister(Patient)


@admin.register(Patient)
class PatientAdmin(RoutinesPatientAdmin):
    """The patient page as routines leaves it, re-planning the patient's reminders when staff change their settings."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and REMINDER_FIELDS.intersection(form.changed_data):
            # Reminders are planned up to a day and a half ahead: re-plan them, as the
            # patient's own settings page does, or they would still go out at the old time.
            replan_patient(patient=obj, now=timezone.now())
