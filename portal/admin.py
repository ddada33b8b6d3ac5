from django.contrib import admin, messages
from django.utils.html import format_html

from .forms import PatientAdminForm
from .invitations import send_invitation
from .models import AccessLog, Invitation, Patient


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    form = PatientAdminForm
    list_display = ["full_name", "chart_number", "date_of_birth", "dermatologist", "portal_status"]
    list_filter = ["dermatologist", "email_consent", "reminders_paused"]
    search_fields = ["chart_number", "user__first_name", "user__last_name", "user__email"]
    list_select_related = ["user", "dermatologist"]
    autocomplete_fields = []
    actions = ["send_portal_invitation"]
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
    ]

    @admin.display(description="Name", ordering="user__last_name")
    def full_name(self, patient):
        return patient.full_name

    @admin.display(description="Portal")
    def portal_status(self, patient):
        if patient.user.has_usable_password():
            return format_html('<span title="Has set a password">Active</span>')
        return "Not activated"

    @admin.action(description="Send portal invitation", permissions=["invite"])
    def send_portal_invitation(self, request, queryset):
        sent = 0
        for patient in queryset.select_related("user"):
            if not patient.user.email:
                self.message_user(request, f"{patient} has no email address.", messages.WARNING)
                continue
            send_invitation(patient=patient, sent_by=request.user, request=request)
            sent += 1
        if sent:
            self.message_user(request, f"Sent {sent} portal invitation(s).", messages.SUCCESS)

    def has_invite_permission(self, request):
        return request.user.has_perm("portal.invite_patient")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
