"""``akkoord export <file.zip> [--password-env VAR]``: contacts and consents,
encrypted (AES-256 zip). The password comes from an environment variable
(default ``AKKOORD_EXPORT_PASSWORD``) or, at a terminal, a prompt; it is never
printed. Exit codes: 0 = written, 2 = usage (no or short password, bad path).
"""

import getpass
import os
import sys

from django.core.management.base import BaseCommand, CommandError

from akkoord.accounts.audit import audit
from akkoord.accounts.models import AuditAction
from akkoord.lib.cli import CliActor, Progress
from akkoord.transfer.exporting import ExportError, check_password, write_export


class Command(BaseCommand):
    help = "Export contacts and consents as a password-protected (AES-256) zip."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Where to write the zip (e.g. export.zip).")
        parser.add_argument("--password-env", default="AKKOORD_EXPORT_PASSWORD")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        path = options["file"]
        if not path.lower().endswith(".zip"):
            raise CommandError("The export file name must end in .zip.", returncode=2)
        password = os.environ.get(options["password_env"], "")
        if not password and sys.stdin.isatty():
            password = getpass.getpass("Password for the export: ")
        try:
            check_password(password)
        except ExportError as error:
            raise CommandError(
                f"{error} Set it in the environment variable {options['password_env']}.",
                returncode=2,
            ) from None
        progress = None if options["no_progress"] else Progress(self.stderr, "rows")
        try:
            counts = write_export(path, password, progress=progress)
        except OSError as error:
            raise CommandError(str(error), returncode=2) from None
        if progress:
            progress.done()
        audit(
            CliActor(),
            AuditAction.EXPORT,
            object_type="export",
            detail=f"contacts and consents: {counts['contacts']} contacts, "
            f"{counts['consent_events']} events",
        )
        self.stdout.write(
            f"Wrote {path}: {counts['contacts']} contacts, {counts['consent_events']} consent "
            "events (AES-256 encrypted zip)."
        )
