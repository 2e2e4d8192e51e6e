"""``akkoord import <file> --purpose KEY``: import contacts with their consent proof.

Exit codes: 0 = imported (or dry run without problems), 1 = validation
problems (reported by row and column on stderr), 2 = usage (bad option,
unknown purpose, unreadable file or mapping).

The file is checked whole before anything is written, then written in chunks
of 2,000 rows, each committed on its own (other writers get in between). If
the command is killed while writing, the rows written so far stay (each one
complete); run it again with the same file to import the rest.
"""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from akkoord.accounts.audit import audit
from akkoord.accounts.models import AuditAction
from akkoord.lib.cli import CliActor, Progress
from akkoord.transfer import formats
from akkoord.transfer.importer import ImportError_, ImportRun, prepare, run_import
from akkoord.transfer.reading import FileProblem, open_path


class _ImportProgressLine:
    """One progress line per phase: rows checked (share of the file), then rows written."""

    def __init__(self, stream):
        self.stream = stream
        self.phase = "checking"
        self.line = Progress(stream, "rows checked")

    def __call__(self, at) -> None:
        if at.phase != self.phase:
            self.line.done()
            self.phase = at.phase
            self.line = Progress(self.stream, "rows written")
        if at.phase == "checking":
            self.line(at.rows_checked, at.bytes_read, at.bytes_total)
        else:
            self.line(at.rows_written, at.rows_written, at.rows_to_write)

    def done(self) -> None:
        self.line.done()


class Command(BaseCommand):
    help = "Import contacts and their consent proof from a CSV or XLSX file."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--purpose", help="Key of the purpose the consents are for.")
        parser.add_argument("--format", default="auto", choices=formats.FORMATS)
        parser.add_argument("--mapping", default="", help="column=field,... (overrides the format)")
        parser.add_argument("--encoding", default="utf-8")
        parser.add_argument(
            "--valid-only",
            action="store_true",
            help="Import the valid rows and report the rest (default: all or nothing).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check everything, keep nothing."
        )
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        try:
            source = open_path(options["file"], encoding=options["encoding"])
            mapping = formats.parse_mapping_option(options["mapping"])
            purpose, mapping, fmt = prepare(
                source, purpose_key=options["purpose"], fmt=options["format"], mapping=mapping
            )
        except (OSError, LookupError) as error:
            raise CommandError(str(error), returncode=2) from None
        except (FileProblem, formats.MappingError, ImportError_) as error:
            raise CommandError(str(error), returncode=2) from None
        progress = None if options["no_progress"] else _ImportProgressLine(self.stderr)
        actor = CliActor()
        report = run_import(
            ImportRun(
                source,
                mapping,
                purpose,
                format=fmt,
                valid_only=options["valid_only"],
                dry_run=options["dry_run"],
                actor=actor.audit_label,
                progress=progress,
            )
        )
        if progress:
            progress.done()
        if report.committed:
            audit(
                actor,
                AuditAction.CREATE,
                object_type="import",
                detail=f"import of {report.created} contacts, {report.events} consent events "
                f"({report.file[:80]})",
            )
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), default=str))
        else:
            self._summary(report)
        if report.problem_count:
            sys.exit(1)

    def _summary(self, report):
        for problem in report.problems:
            self.stderr.write(str(problem))
        if report.problem_count > len(report.problems):
            self.stderr.write(
                f"... and {report.problem_count - len(report.problems)} more problems"
            )
        state = (
            "dry run, nothing kept"
            if report.dry_run
            else ("imported" if report.committed else "NOT imported (all or nothing)")
        )
        self.stdout.write(
            f"{report.file}: {report.rows} rows, format {report.format}: {state}. "
            f"New contacts: {report.created}; consent events: {report.events} "
            f"({report.proven} with proof, {report.unproven} unproven); existing contacts given "
            f"consent: {report.consent_added_to_existing}, left unchanged: "
            f"{report.existing_unchanged}; suppressed addresses skipped: "
            f"{report.suppressed_skipped}; purchases recorded: {report.purchases} "
            f"({report.purchases_known} already known); contacts given new tags: "
            f"{report.tagged}; problems: {report.problem_count}; "
            f"{report.seconds:.1f} s."
        )
