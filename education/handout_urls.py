"""This app's staff handouts, collected under /handouts/ (namespace "handouts") by portal/handout_urls.py."""

from django.urls import path

from . import views

urlpatterns = [
    path("articles/<slug:slug>.pdf", views.staff_article_handout, name="article"),
]
