"""For auditors: who viewed, printed or changed one patient's record, as CSV.

    manage.py export_access_log --patient C-1001 --since 2027-01-01 [--until 2027-03-31] [--output file.csv]

Streams the rows (constant memory, however long the log), oldest first, to standard output or `--output`
(created readable by its owner only). The export is itself an access to the patient's record, so it
writes an AccessLog row too.
"""

import datetime as dt
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portal.models import AccessLog, Patient


def day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = "Export one patient's access-log rows since a date as CSV (for auditors)."

    def add_arguments(self, parser):
        parser.add_argument("--patient", required=True, help="The patient's chart number.")
        parser.add_argument("--since", required=True, help="First day included (YYYY-MM-DD, clinic time).")
        parser.add_argument("--until", help="Last day included (YYYY-MM-DD, clinic time); default: today.")
        parser.add_argument("--output", type=Path, help="Write to this file instead of standard output.")

    def handle(self, *, patient: str, since: str, until: str | None, output: Path | None, **options):
        found = Patient.objects.filter(chart_number__iexact=patient.strip()).first()
        if found is None:
            raise CommandError(f"No patient with chart number {patient!r}.")
        first, last = day(since), day(until) if until else timezone.localdate()
        if last < first:
            raise CommandError("--until is before --since.")
        start = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
        end = timezone.make_aware(dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min))
        # Up to now: the row this export writes is not part of it.
        rows = AccessLog.objects.filter(patient=found, at__gte=start, at__lt=min(end, timezone.now()))
        AccessLog.objects.create(
            patient=found,
            action=AccessLog.PRINT,
            what=f"Exported access log: {first} to {last} (manage.py export_access_log)",
        )
        if output is None:
            for line in rows.csv_lines():
                self.stdout.write(line, ending="")
            return
        with os.fdopen(os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", newline="") as file:
            file.writelines(rows.csv_lines())
        self.stderr.write(f"Wrote {output}.")
