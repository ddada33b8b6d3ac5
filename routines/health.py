def reminders_health() -> str:
    """ "ok" while the reminder scheduler has run recently, "stale" otherwise."""
    return "stale"
