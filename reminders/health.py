import datetime as dt

from django.conf import settings
from django.utils import timezone

from .models import WorkerHeartbeat
from .sending import HEARTBEAT_NAME


def reminders_health() -> str:
    """ "ok" if a `run_reminders` pass finished within REMINDER_STALE_AFTER_MINUTES, else "stale"."""
    recent = timezone.now() - dt.timedelta(minutes=settings.REMINDER_STALE_AFTER_MINUTES)
    return "ok" if WorkerHeartbeat.objects.filter(name=HEARTBEAT_NAME, beat_at__gte=recent).exists() else "stale"
