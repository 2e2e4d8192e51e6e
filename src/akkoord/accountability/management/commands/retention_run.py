from django.core.management.base import BaseCommand

from akkoord.accountability.retention import run


class Command(BaseCommand):
    help = (
        "Erase what has expired under the retention rules (run it daily); "
        "--dry-run only shows the counts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count, change nothing.")

    def handle(self, *args, dry_run=False, **options):
        result = run(dry_run=dry_run)
        prefix = "would remove" if dry_run else "removed"
        for key, count in result.report.items():
            self.stdout.write(f"{prefix} {count} {key.replace('_', ' ')}")
