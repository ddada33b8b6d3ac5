"""Apply the access log's retention: archive the rows older than ACCESS_LOG_RETENTION_DAYS, then delete them.

Run daily by deploy/systemd/portal-access-log.timer. Batch by batch, oldest first: the batch's rows are
written to a compressed CSV file (`access-log-<first id>-<last id>.csv.gz` in the archive folder, written
under a temporary name and renamed once complete), the file is read back and must hold exactly those
rows, and only then are they deleted. A run killed at any point loses nothing: rows still in the table
are archived again by the next run (at worst a row sits in two files); a half-written file keeps its
temporary name and is replaced.

ACCESS_LOG_RETENTION_DAYS=0 (the default) keeps everything and this command does nothing.
"""

import csv
import datetime as dt
import gzip
import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portal.models import AccessLog


def write_archive(path: Path, rows) -> None:
    """Write the CSV lines `rows` gzip-compressed to `path`, readable by its owner only, all or nothing."""
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as raw:
        with gzip.open(raw, "wt", encoding="utf-8", newline="") as archive:
            archive.writelines(rows)
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(partial, path)


def archived_ids(path: Path) -> list[int]:
    """The ids in an archive file, read back from the disk (raises on a damaged file)."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as archive:
        reader = csv.reader(archive)
        next(reader)  # the header
        return [int(row[0]) for row in reader]


class Command(BaseCommand):
    help = "Archive the access-log rows older than ACCESS_LOG_RETENTION_DAYS to compressed CSV, then delete them."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count the rows that would go; change nothing.")
        parser.add_argument("--batch-size", type=int, default=5000, help="Rows per archive file and delete.")
        parser.add_argument(
            "--archive-dir",
            type=Path,
            default=None,
            help="Where the archive files go (default: VAR_DIR/access-log-archive).",
        )

    def handle(self, *, dry_run: bool, batch_size: int, archive_dir: Path | None, **options):
        days = settings.ACCESS_LOG_RETENTION_DAYS
        if not days:
            self.stdout.write("ACCESS_LOG_RETENTION_DAYS is 0: the access log is kept in full. Nothing deleted.")
            return
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        cutoff = timezone.now() - dt.timedelta(days=days)
        old = AccessLog.objects.older_than(cutoff)
        if dry_run:
            count = old.count()
            self.stdout.write(f"Dry run: {count} access-log rows older than {cutoff:%Y-%m-%d} would be deleted.")
            return

        folder = archive_dir or Path(settings.VAR_DIR) / "access-log-archive"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        deleted = files = 0
        while ids := list(old.order_by("pk").values_list("pk", flat=True)[:batch_size]):
            path = folder / f"access-log-{ids[0]}-{ids[-1]}.csv.gz"
            write_archive(path, AccessLog.objects.filter(pk__in=ids).csv_lines(for_spreadsheets=False))
            if sorted(archived_ids(path)) != ids:
                raise CommandError(f"{path} does not hold the rows just written; nothing of this batch deleted.")
            deleted += AccessLog.objects.delete_archived(ids)
            files += 1
        self.stdout.write(
            f"Deleted {deleted} access-log rows older than {cutoff:%Y-%m-%d} "
            f"(kept {days} days), archived first in {files} file(s) in {folder}."
        )
