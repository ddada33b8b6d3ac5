import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone


class Command(BaseCommand):
    help = (
        "Back up the database while the portal runs: SQLite's online backup API, "
        "or pg_dump (custom format) for PostgreSQL."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="Backup file (default: VAR_DIR/backups/portal-<timestamp>.<ext>).")

    def handle(self, output=None, **options):
        vendor = connection.vendor
        if vendor == "sqlite" and not Path(connection.settings_dict["NAME"]).is_file():
            # sqlite3.connect would create an empty database and back that up.
            raise CommandError(f"There is no SQLite database at {connection.settings_dict['NAME']}.")
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        default = Path(settings.VAR_DIR) / "backups" / f"portal-{stamp}.{'sqlite3' if vendor == 'sqlite' else 'dump'}"
        target = Path(output) if output else default
        target.parent.mkdir(parents=True, exist_ok=True)
        # A backup holds every patient's record: readable by this account only.
        target.touch(mode=0o600)
        target.chmod(0o600)
        if vendor == "sqlite":
            self._sqlite(target)
        elif vendor == "postgresql":
            self._postgres(target)
        else:
            raise CommandError(f"Backups of {vendor} are not supported.")
        self.stdout.write(f"Backed up to {target}")

    def _sqlite(self, target: Path) -> None:
        # The online backup API copies a consistent snapshot even while the
        # web server and reminder worker are writing (WAL mode).
        source = sqlite3.connect(connection.settings_dict["NAME"])
        dest = sqlite3.connect(target)
        try:
            with dest:
                source.backup(dest)
        finally:
            dest.close()
            source.close()

    def _postgres(self, target: Path) -> None:
        if shutil.which("pg_dump") is None:
            raise CommandError("pg_dump is not installed (Debian package postgresql-client).")
        s = connection.settings_dict
        command = ["pg_dump", "--format=custom", "--file", str(target), "--dbname", s["NAME"]]
        for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
            if s.get(key):
                command += [flag, str(s[key])]
        env = {"PGPASSWORD": s["PASSWORD"]} if s.get("PASSWORD") else {}
        # An argument list from our own settings, no shell.
        result = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True)  # noqa: S603
        if result.returncode != 0:
            raise CommandError(f"pg_dump failed: {result.stderr.strip()}")
