from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.contrib.admin import AdminSite, ModelAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite


@dataclass(frozen=True)
class AdminHome:
    """A staff role's admin home page (the dermatologist's worklist, the front desk's print desk).

    portal sits below the apps that know what each role needs today, so it never imports
    them: an app registers its homes from its AppConfig.ready() (`register_home`). The admin
    serves each at /admin/<path>/ (URL name "admin:<name>") to members of `group` and to
    superusers, and `/admin/` shows the home of the user's role. `view(request, context)`
    renders it, `context` being the admin's own (each_context, the app list, other homes).
    Every GET and POST reaches it through `admin_view`: staff login, CSRF, no caching.
    """

    name: str
    path: str
    title: str
    group: str
    view: Callable[[HttpRequest, dict], HttpResponse]


HOMES: list[AdminHome] = []


def register_home(home: AdminHome) -> None:
    """Add (or replace, by name) a role's home; call from AppConfig.ready()."""
    HOMES[:] = [known for known in HOMES if known.name != home.name] + [home]


class PortalAdminSite(OTPAdminSite):
    """The admin, with TOTP two-factor required of staff when STAFF_2FA_REQUIRED is on.

    Devices are added per staff user under "TOTP devices" (the admin shows
    the QR code to scan with an authenticator app). Its index is the home of the
    user's role (`AdminHome`), with the stock list of models below it.
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

    def homes_for(self, user) -> list[AdminHome]:
        """The registered homes `user` may open, in registration order (every one for a superuser)."""
        if user.is_superuser:
            return list(HOMES)
        groups = set(user.groups.values_list("name", flat=True))
        return [home for home in HOMES if home.group in groups]

    def get_urls(self):
        homes = [
            path(f"{home.path}/", self.admin_view(partial(self.home_view, home=home)), name=home.name) for home in HOMES
        ]
        return homes + super().get_urls()

    def index(self, request, extra_context=None):
        """The home of the user's role (the first of theirs), or the stock index if they have none."""
        homes = self.homes_for(request.user)
        if not homes:
            return super().index(request, extra_context)
        return self._render_home(request, homes[0], homes)

    def home_view(self, request, home: AdminHome):
        homes = self.homes_for(request.user)
        if home not in homes:
            raise PermissionDenied
        return self._render_home(request, home, homes)

    def _render_home(self, request, home: AdminHome, homes: list[AdminHome]) -> HttpResponse:
        request.current_app = self.name
        context = {
            **self.each_context(request),
            "title": home.title,
            "subtitle": None,
            "app_list": self.get_app_list(request),
            "home": home,
            "other_homes": [other for other in homes if other != home],
        }
        return home.view(request, context)


class ReadOnlyAdmin(ModelAdmin):
    """For records nobody may add, change or delete through the admin (logs, ticks, reminders)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
