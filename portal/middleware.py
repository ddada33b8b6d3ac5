import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from .language import language_of, patient_of

SESSION_STARTED = "staff_session_started"
SESSION_SEEN = "staff_session_seen"


class StaffSessionPolicyMiddleware:
    """Ends a staff session after STAFF_SESSION_IDLE_SECONDS idle or STAFF_SESSION_MAX_SECONDS in all,
    and with STAFF_2FA_REQUIRED on, keeps staff without a TOTP code out of every page.

    Front-desk computers are shared, so a forgotten admin tab must not stay
    open. Patients are not affected: their expiry is set at login (see LoginView).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            now = int(time.time())
            started = request.session.setdefault(SESSION_STARTED, now)
            seen = request.session.get(SESSION_SEEN, now)
            if now - seen > settings.STAFF_SESSION_IDLE_SECONDS or now - started > settings.STAFF_SESSION_MAX_SECONDS:
                logout(request)
                messages.info(request, _("You were logged out after a period without activity. Please log in again."))
                return redirect_to_login(request.get_full_path())
            request.session[SESSION_SEEN] = now
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        """Send staff who logged in with a password alone to the admin's login for their TOTP code.

        The portal's login page (/accounts/login/) takes a password only, so with STAFF_2FA_REQUIRED
        on, this is checked once here for every page staff can reach (handouts, article previews,
        whatever comes next). The admin checks it itself (`PortalAdminSite.has_permission`) and
        serves the login that asks for the code. Logging out, or signing in as someone else on a
        shared front-desk computer, needs no code.
        """
        user = request.user
        if not (settings.STAFF_2FA_REQUIRED and user.is_authenticated and user.is_staff) or user.is_verified():
            return None
        match = request.resolver_match
        if "admin" in match.namespaces or match.view_name in ("login", "logout"):
            return None
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))


class PrivatePagesMiddleware:
    """Sends `Cache-Control: private, no-store` (and no-cache, max-age=0) with every response to a signed-in user.

    A patient's pages show their plan, even the article list shows which articles
    are theirs; on a shared computer, none of it may come back from the browser's
    cache or history after logout. Applied here, not per view, so a new page cannot
    forget it. Anonymous responses (the login page, static files) are left cacheable.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "no-store" not in response.get("Cache-Control", ""):
            add_never_cache_headers(response)  # also marks it private
        return response


class PatientLanguageMiddleware:
    """Puts a signed-in patient's pages in the language of their record (`Patient.preferred_language`).

    The record, not the browser, decides: it is also what their reminders,
    emails and PDFs use, and a clinic computer's browser may be set to either
    language. Staff and visitors keep the language LocaleMiddleware chose from
    the cookie or Accept-Language (the admin has its own Spanish).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        patient = patient_of(request.user)
        if patient is not None:
            translation.activate(language_of(patient))
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
