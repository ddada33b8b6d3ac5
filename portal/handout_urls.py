"""Staff handout URLs (/handouts/...). Each app supplies its own view."""

from django.urls import path

from education import views as education_views
from routines import views as routine_views

from . import views
from .admin_site import staff_two_factor

app_name = "handouts"

urlpatterns = [
    path("patients/<int:patient_id>/plan.pdf", staff_two_factor(routine_views.staff_plan_handout), name="patient-plan"),
    path("patients/<int:patient_id>/invite.pdf", staff_two_factor(views.invite_handout), name="patient-invite"),
    path("articles/<slug:slug>.pdf", staff_two_factor(education_views.staff_article_handout), name="article"),
]
