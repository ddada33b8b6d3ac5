"""The portal's front page, "/", named "home" outside the "routines" namespace: the patient's today page."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.today, name="home"),
]
