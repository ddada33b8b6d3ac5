"""This app's staff handouts, collected under /handouts/ (namespace "handouts") by portal/handout_urls.py."""

from django.urls import path

from . import views

urlpatterns = [
    path("patients/<int:patient_id>/plan.pdf", views.staff_plan_handout, name="patient-plan"),
]
