from django.urls import path

from . import views

app_name = "reminders"

urlpatterns = [
    path("", views.preferences, name="settings"),
    path("calendar/regenerate/", views.regenerate_calendar, name="calendar-regenerate"),
    path("calendar/<slug:token>.ics", views.calendar_feed, name="calendar"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
