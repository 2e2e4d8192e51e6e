"""``akkoord retention_run [--dry-run] [--ids] [--no-progress]``: apply retention.

Prints one line per count (contacts erased, unconfirmed sign-ups, old log
entries, old caught mail); ``--ids`` also lists the contact ids (never names or
addresses). Exit codes: 0 = done, 1 = the job failed (message on stderr).
"""

from django.core.management.base import BaseCommand, CommandError

from akkoord.accountability.retention import run
from akkoord.lib.cli import Progress


class Command(BaseCommand):
    help = (
        "Erase what has expired under the retention rules (run it daily); "
        "--dry-run only shows the counts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count, change nothing.")
        parser.add_argument(
            "--ids", action="store_true", help="Also list the ids of the contacts concerned."
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, dry_run=False, ids=False, no_progress=False, **options):
        progress = None if no_progress or dry_run else Progress(self.stderr, "contacts erased")
        try:
            result = run(dry_run=dry_run, progress=progress)
        except Exception as error:
            raise CommandError(f"The retention job failed: {error}") from error
        if progress is not None and result.contact_ids:
            progress.done()
        prefix = "would remove" if dry_run else "removed"
        for key, count in result.report.items():
            self.stdout.write(f"{prefix} {count} {key.replace('_', ' ')}")
        if ids:
            label = "contact ids" if not dry_run else "contact ids that would be erased"
            listed = " ".join(str(pk) for pk in result.contact_ids) or "-"
            self.stdout.write(f"{label}: {listed}")
