from . import reminder_admin  # noqa: F401  (registers the reminder admin)
