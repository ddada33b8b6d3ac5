from django.urls import path

from . import views

app_name = "routines"

urlpatterns = [
    path("plan/", views.plan_detail, name="plan"),
    path("plan/steps/<int:step_id>/check/", views.check_step, name="check-step"),
    path("plan/steps/<int:step_id>/acknowledge/", views.acknowledge_caution, name="acknowledge-caution"),
    path("plan/print/", views.plan_print, name="plan-print"),
    path("skin/", views.skin_check_in, name="skin-check-in"),
    path("plan/handout.pdf", views.plan_handout, name="plan-handout"),
]
