import functools

from django.conf import settings
from django.contrib import admin
from django.contrib.admin import AdminSite, ModelAdmin
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
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


def staff_two_factor(view):
    """Let staff into `view` only as the admin would: with a TOTP code when STAFF_2FA_REQUIRED is on.

    For staff pages outside the admin, such as handouts (a password alone also
    opens /accounts/login/). Non-staff users go on to the view's own
    permission check.
    """

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.user.is_staff and not admin.site.has_permission(request):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return view(request, *args, **kwargs)

    return wrapped


class ReadOnlyAdmin(ModelAdmin):
    """For records nobody may add, change or delete through the admin (logs, ticks, reminders)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
