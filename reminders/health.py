import datetime as dt

from django.conf import settings
from django.utils import timezone

from .models import WorkerHeartbeat


def reminders_health() -> str:
    """ "ok" if a `run_reminders` pass finished within REMINDER_STALE_AFTER_MINUTES, else "stale"."""
    recent = timezone.now() - dt.timedelta(minutes=settings.REMINDER_STALE_AFTER_MINUTES)
    return "ok" if WorkerHeartbeat.objects.beat_since(WorkerHeartbeat.REMINDERS, recent) else "stale"
