from django.conf import settings
from django.contrib.admin import AdminSite, ModelAdmin
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite


class PortalAdminSite(OTPAdminSite):
    """The admin, with TOTP two-factor required of staff when STAFF_2FA_REQUIRED is on.

    Devices are added per staff user under "TOTP devices" (the admin shows
    the QR code to scan with an authenticator app).
    """

    site_header = "Clinic portal administration"
    site_title = "Clinic portal"

    def __init__(self, name="admin"):
        super().__init__(name)

    @property
    def login_form(self):
        return OTPAdminAuthenticationForm if settings.STAFF_2FA_REQUIRED else None

    @property
    def login_template(self):
        return OTPAdminSite.login_template if settings.STAFF_2FA_REQUIRED else None

    def has_permission(self, request):
        if settings.STAFF_2FA_REQUIRED:
            return super().has_permission(request)
        return AdminSite.has_permission(self, request)


class ReadOnlyAdmin(ModelAdmin):
    """For records nobody may add, change or delete through the admin (logs, ticks, reminders)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
