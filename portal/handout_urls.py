"""Staff handout URLs (/handouts/...). Each app supplies its own view."""

import functools

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.urls import path, reverse

from education import views as education_views
from routines import views as routine_views

from . import views

app_name = "handouts"


def staff_two_factor(view):
    """Staff reach handouts only as the admin lets them in: with a TOTP code when STAFF_2FA_REQUIRED is on.

    Handouts carry patient data, and a staff password alone also opens
    /accounts/login/. Non-staff users go on to the view's own permission
    check (403).
    """

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if settings.STAFF_2FA_REQUIRED and user.is_authenticated and user.is_staff and not user.is_verified():
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return view(request, *args, **kwargs)

    return wrapped


urlpatterns = [
    path("patients/<int:patient_id>/plan.pdf", staff_two_factor(routine_views.staff_plan_handout), name="patient-plan"),
    path("patients/<int:patient_id>/invite.pdf", staff_two_factor(views.invite_handout), name="patient-invite"),
    path("articles/<slug:slug>.pdf", staff_two_factor(education_views.staff_article_handout), name="article"),
]
