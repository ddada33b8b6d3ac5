from django.urls import path

from . import reminder_views

app_name = "reminders"

urlpatterns = [
    path("", reminder_views.preferences, name="settings"),
    path("calendar/regenerate/", reminder_views.regenerate_calendar, name="calendar-regenerate"),
    path("calendar/<slug:token>.ics", reminder_views.calendar_feed, name="calendar"),
    path("unsubscribe/<str:token>/", reminder_views.unsubscribe, name="unsubscribe"),
]
