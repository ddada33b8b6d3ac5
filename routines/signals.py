"""Signals routines sends for the apps above it, which it never imports."""

from django.dispatch import Signal

# Sent with `patient_ids` when something that decides which of their steps are due changed
# through a queryset update, which sends no post_save (e.g. skin flags marked reviewed end a ramp hold).
# Model saves and deletes need no extra signal: Django's own post_save and post_delete carry them.
schedule_changed = Signal()
