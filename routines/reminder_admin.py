"""Admin for reminders (imported by routines/admin.py)."""
