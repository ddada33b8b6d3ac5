"""Background tasks (Django's Tasks API through the django-tasks backport).

The task carries only reminder ids; the Reminder rows decide what is sent
(see routines/sending.py). The backend has no retries and a killed worker
leaves its task "running" forever, so both are handled on our rows instead:
back-off on failure, and the scheduler re-enqueues rows whose task was lost.
"""

from django_tasks import task

from . import sending


@task()
def send_reminders(reminder_ids: list[int]) -> dict:
    """Send those of `reminder_ids` still due, by the clock as each chunk is claimed. Returns {status: count}."""
    return sending.send_batch(reminder_ids)
