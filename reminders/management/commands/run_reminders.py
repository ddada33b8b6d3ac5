"""The reminder worker: it plans, and it sends. The Reminder table is its only queue.

    python manage.py run_reminders                 # loop forever
    python manage.py run_reminders --once          # one whole pass, sends included, then exit
    python manage.py run_reminders --once --now 2027-03-14T12:01:00Z
    python manage.py run_reminders --no-plan       # an extra copy that only sends

A pass: skip what is too late → recover rows a dead worker left "sending" →
send everything due, a leased batch at a time → plan ahead, sending what falls
due between its batches → send what planning made due → write the heartbeat
/healthz reads. Due reminders never wait for planning.

Planning is incremental (reminders/planning.py): a worker's first pass plans
every active plan over the whole window, later ones only what came into the
window since its last pass and the patients whose plans, procedures, flags or
settings changed (ReplanRequest rows). Once a day (`--full-every`) a pass plans
everything again, a safety net for changes made behind the models' backs.

Concurrency: run as many copies as you like, on several machines sharing one
PostgreSQL database; on SQLite the single writer serialises them. Every step
is safe to repeat or race: planning inserts ignore existing rows (unique
constraint), skipping and recovery are conditional UPDATEs, a batch is leased
with SELECT … FOR UPDATE SKIP LOCKED, and each send first claims its row with
a conditional UPDATE (pending → sending) that only one worker can win. A
worker killed mid-batch leaves at most the one reminder it was sending as
"delivery unknown". See reminders/sending.py.

Scaling out: every copy plans by default; planning is idempotent, and extra
copies may run with --no-plan and leave it to one.
SIGTERM or SIGINT (Ctrl-C under `make run`) lets the batch in hand finish,
then stops.
"""

import datetime as dt
import logging
import signal
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from reminders import planning, sending
from reminders.models import WorkerHeartbeat

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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.shutdown = False
        self.planned_at = None  # the `now` of this worker's last finished planning pass; None: plan everything

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run one whole pass, sending what is due, then exit.")
        parser.add_argument("--now", help="With --once: act as if it were this instant (ISO 8601 with zone).")
        parser.add_argument("--interval", type=float, default=30, help="Seconds between passes (default 30).")
        parser.add_argument(
            "--plan-every", type=float, default=60, help="Seconds between planning runs in the loop (default 60)."
        )
        parser.add_argument(
            "--full-every",
            type=float,
            default=86400,
            help="Seconds between planning runs that read every plan, not only what changed (default a day).",
        )
        parser.add_argument("--no-plan", action="store_true", help="Never plan: skip, recover and send only.")

    def on_signal(self, signum, frame):
        self.stdout.write(f"{signal.strsignal(signum)}: finishing the batch in hand, then stopping.")
        self.shutdown = True

    def handle(self, *, once, now, interval, plan_every, full_every, no_plan, **options):
        if now and not once:
            raise CommandError("--now only makes sense with --once.")
        if once:
            self.run_pass(parse_now(now) if now else None, plan=not no_plan)
            return
        previous = {signum: signal.signal(signum, self.on_signal) for signum in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.loop(interval=interval, plan_every=None if no_plan else plan_every, full_every=full_every)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def loop(self, *, interval: float, plan_every: float | None, full_every: float) -> None:
        """Run passes every `interval` seconds until told to stop; plan every `plan_every` seconds (None: never),
        everything again every `full_every` seconds."""
        last_planned = last_full = None
        while not self.shutdown:
            started = time.monotonic()
            plan = plan_every is not None and (last_planned is None or started - last_planned >= plan_every)
            if plan and (last_full is None or started - last_full >= full_every):
                self.planned_at, last_full = None, started
            try:
                self.run_pass(None, plan=plan)
            except DatabaseError:
                # The database is down or restarting: try again next pass. No heartbeat is
                # written meanwhile, so /healthz reports "stale" if it lasts.
                logger.exception("Reminder pass failed; retrying in %s s", interval)
                connection.close()
            else:
                if plan:
                    last_planned = started
            self.sleep(max(0.0, interval - (time.monotonic() - started)))

    def sleep(self, seconds: float) -> None:
        """Wait for the next pass, waking early to stop."""
        until = time.monotonic() + seconds
        while not self.shutdown and (left := until - time.monotonic()) > 0:
            time.sleep(min(left, 1.0))

    def run_pass(self, fixed_now: dt.datetime | None, *, plan: bool) -> None:
        """One pass: at instant `fixed_now` throughout (`--now`), or None for the clock.

        By the clock, planning and the checks use the time the pass began, and
        sends read the clock as they go, so a long backlog never sends past
        the grace window.
        """
        now = fixed_now or timezone.now()
        skipped = self.skip_late(now)
        recovered = self.recover_stuck(now)
        # What earlier passes planned goes out first, then more between planning's batches (a first or
        # daily pass reads every active plan), then what planning added that is already due.
        leased = self.send_all_due(fixed_now)
        planned = 0
        if plan:
            planned, leased_meanwhile = self.plan_ahead(now, fixed_now)
            leased += leased_meanwhile + self.send_all_due(fixed_now)
        detail = f"planned {planned}, skipped {skipped}, recovered {recovered}, leased {leased}"
        WorkerHeartbeat.objects.beat(WorkerHeartbeat.REMINDERS, detail=detail)
        self.stdout.write(f"{now:%Y-%m-%dT%H:%M:%SZ} run_reminders: {detail}")

    # Each step is a small method, testable on its own; the counts say whether there is more to do.

    def send_all_due(self, fixed_now: dt.datetime | None) -> int:
        """Send leased batches until nothing is due (or we are told to stop); returns how many rows were leased."""
        leased = 0
        while not self.shutdown and (count := self.send_due(fixed_now)):
            leased += count
        return leased

    def plan_ahead(self, now: dt.datetime, fixed_now: dt.datetime | None = None) -> tuple[int, int]:
        """Create the reminders due soon, sending what falls due between planning's batches.

        Returns how many rows were offered (existing ones are ignored) and how many were leased meanwhile.
        """
        leased = 0

        def send_meanwhile() -> None:
            nonlocal leased
            leased += self.send_all_due(fixed_now)

        planned = planning.plan_reminders(now=now, since=self.planned_at, between_batches=send_meanwhile)
        self.planned_at = now
        return planned, leased

    def skip_late(self, now: dt.datetime) -> int:
        """Record what is past the grace window as skipped; returns how many."""
        return sending.skip_late(now=now)

    def recover_stuck(self, now: dt.datetime) -> int:
        """Record rows a dead worker left "sending" as failed, delivery unknown; returns how many."""
        return sending.recover_stuck(now=now)

    def send_due(self, now: dt.datetime | None) -> int:
        """Lease and send one batch (at `now`, or by the clock if None); 0 when nothing due is left."""
        return sending.send_due(now=now)
