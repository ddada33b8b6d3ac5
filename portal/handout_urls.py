"""Staff handout URLs (/handouts/...). Each app supplies its own view."""

from django.urls import path

from education import views as education_views
from routines import views as routine_views

from . import views

app_name = "handouts"

urlpatterns = [
    path("patients/<int:patient_id>/plan.pdf", routine_views.staff_plan_handout, name="patient-plan"),
    path("patients/<int:patient_id>/invite.pdf", views.invite_handout, name="patient-invite"),
    path("articles/<slug:slug>.pdf", education_views.staff_article_handout, name="article"),
]
