"""The reminder scheduler.

    python manage.py run_reminders                 # loop forever
    python manage.py run_reminders --once          # one whole pass, sends included, then exit
    python manage.py run_reminders --once --now 2027-03-14T12:01:00Z

A pass: plan ahead → skip what is too late → recover rows stuck "sending" →
enqueue due reminders for the task worker (`db_worker`), or with --once send
them right here → write the heartbeat /healthz reads.

Concurrency: any number of schedulers and task workers may run at once, on
several machines sharing one PostgreSQL database. Every step is safe to
repeat or race: planning inserts ignore existing rows (unique constraint),
skipping and recovery are conditional UPDATEs, a reminder enqueued twice is
harmless because each send first claims its row with a conditional UPDATE
(pending → sending) that only one worker can win. See routines/sending.py.
"""

import datetime as dt
import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from reminders import sending

logger = logging.getLogger(__name__)


def parse_now(value: str) -> dt.datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        raise CommandError(f"--now must be an ISO 8601 date and time such as 2027-03-14T12:01:00Z, not {value!r}")
    if timezone.is_naive(parsed):
        raise CommandError("--now needs a time zone, e.g. a trailing Z for UTC")
    return parsed


class Command(BaseCommand):
    help = "Plan reminders and send the due ones (loops; --once for a single pass)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run one whole pass, sending what is due, then exit.")
        parser.add_argument("--now", help="With --once: act as if it were this instant (ISO 8601 with zone).")
        parser.add_argument("--interval", type=float, default=30, help="Seconds between passes (default 30).")
        parser.add_argument(
            "--plan-every", type=float, default=600, help="Seconds between planning runs in the loop (default 600)."
        )

    def handle(self, *, once, now, interval, plan_every, **options):
        if now and not once:
            raise CommandError("--now only makes sense with --once.")
        if once:
            self.run_pass(parse_now(now) if now else None, plan=True, send_here=True)
            return
        last_planned = None
        while True:
            started = time.monotonic()
            plan = last_planned is None or started - last_planned >= plan_every
            try:
                self.run_pass(None, plan=plan, send_here=False)
            except DatabaseError:
                # The database is down or restarting: try again next pass. No heartbeat is
                # written meanwhile, so /healthz reports "stale" if it lasts.
                logger.exception("Reminder pass failed; retrying in %s s", interval)
                connection.close()
            else:
                if plan:
                    last_planned = started
            time.sleep(max(0.0, interval - (time.monotonic() - started)))

    def run_pass(self, fixed_now: dt.datetime | None, *, plan: bool, send_here: bool) -> None:
        """One pass: at instant `fixed_now` throughout (`--now`), or None for the clock.

        By the clock, planning and the checks use the time the pass began, and
        sends made here read the clock as they go, so a long backlog never sends
        past the grace window.
        """
        now = fixed_now or timezone.now()
        planned = self.plan_ahead(now) if plan else 0
        skipped = self.skip_late(now)
        recovered = self.recover_stuck(now)
        handled = 0
        if send_here:
            while count := self.send_due(fixed_now):
                handled += count
        else:
            while count := self.enqueue_due(now):
                handled += count
        detail = f"planned {planned}, skipped {skipped}, recovered {recovered}, due {handled}"
        sending.beat(detail=detail)
        self.stdout.write(f"{now:%Y-%m-%dT%H:%M:%SZ} run_reminders: {detail}")

    # Each step is a small method, testable on its own; the counts say whether there is more to do.

    def plan_ahead(self, now: dt.datetime) -> int:
        return sending.plan_reminders(now=now)

    def skip_late(self, now: dt.datetime) -> int:
        return sending.skip_late(now=now)

    def recover_stuck(self, now: dt.datetime) -> int:
        return sending.recover_stuck(now=now)

    def enqueue_due(self, now: dt.datetime) -> int:
        """Enqueue every due reminder not yet enqueued; 0 when nothing is left."""
        return sending.enqueue_due(now=now, batch_size=settings.REMINDER_BATCH_SIZE)

    def send_due(self, now: dt.datetime | None) -> int:
        """Send one batch in this process (at `now`, or by the clock if None); 0 when nothing due is left."""
        return sending.send_due(now=now, batch_size=settings.REMINDER_BATCH_SIZE)
