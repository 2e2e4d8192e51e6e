"""``akkoord ledger verify`` and ``akkoord ledger rebuild [--dry-run]``."""

from django.core.management.base import BaseCommand, CommandError

from akkoord.consent.ledger import rebuild_state, verify_ledger
from akkoord.lib.cli import Progress


class Command(BaseCommand):
    help = "Verify the consent ledger's hash chain, or rebuild the derived consent state from it."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser(
            "verify", help="Check the hash chain, the proofs and the append-only guards."
        )
        rebuild = sub.add_parser(
            "rebuild", help="Replay the ledger into the derived state; report drift."
        )
        rebuild.add_argument(
            "--dry-run", action="store_true", help="Only report drift; change nothing."
        )

    def handle(self, *args, action, **options):
        if action == "verify":
            return self._verify()
        return self._rebuild(dry_run=options["dry_run"])

    def _verify(self):
        progress = Progress(self.stderr, "events")
        result = verify_ledger(progress=progress)
        progress.done()
        if not result.ok:
            where = f"event {result.broken_seq}: " if result.broken_seq else ""
            raise CommandError(
                f"Ledger verification FAILED at {where}{result.problem} "
                f"({result.events_checked} events checked before it)."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Ledger OK: {result.events_checked} events verified, "
                f"{result.proofs_erased} proofs erased (with their person, or on their own)."
            )
        )

    def _rebuild(self, *, dry_run: bool):
        result = rebuild_state(fix=not dry_run)
        for drift in result.drift[:50]:
            self.stdout.write(
                f"drift: contact {drift.contact_id}, purpose {drift.purpose_key}: "
                f"ledger says {drift.expected}, table had {drift.actual}"
            )
        if len(result.drift) > 50:
            self.stdout.write(f"... and {len(result.drift) - 50} more")
        verb = "found" if dry_run else "repaired"
        summary = (
            f"{result.contacts} contacts, {result.states} consent states replayed; "
            f"{len(result.drift)} differences {verb}."
        )
        if result.drift and dry_run:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
