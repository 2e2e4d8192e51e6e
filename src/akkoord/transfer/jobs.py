"""Staff imports as background jobs: started by a page, run by a task worker.

The web request stores the upload, creates an ``ImportJob`` and queues
``run_import_job_task`` (``transfer.tasks.start_job``); it never waits for
the import. The worker checks and writes the file (``importer.run_import``: whole-file check, then chunks
of 2,000 rows), keeps the job's progress up to date for the progress page,
writes the audit entry, and removes the upload when the import ends, however
it ends (a dry run keeps it: the staff user goes on to the real import).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from akkoord.accounts.audit import audit
from akkoord.accounts.models import AuditAction
from akkoord.lib.db import retry_when_locked
from akkoord.transfer.importer import (
    ImportError_,
    ImportProgress,
    ImportReport,
    ImportRun,
    prepare,
    run_import,
)
from akkoord.transfer.models import ImportJob
from akkoord.transfer.reading import FileProblem, open_path
from akkoord.transfer.uploads import KEEP_LEFTOVERS, remove_leftovers, remove_upload, upload_path

logger = logging.getLogger(__name__)

# The progress row is written at most this often (each write is a short
# transaction; on SQLite it takes the write lock).
PROGRESS_EVERY_SECONDS = 1.0


def run_job(job_id: int) -> str:
    """Run one queued job (the task's body); returns its final status."""
    claimed = retry_when_locked(
        lambda: ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
            status=ImportJob.Status.CHECKING, started_at=timezone.now()
        )
    )
    if not claimed:  # run already, or by another worker
        return "skipped"
    job = ImportJob.objects.get(pk=job_id)
    report: ImportReport | None = None
    status, error = ImportJob.Status.FAILED, ""
    tracker = _ProgressTracker(job)
    try:
        source = open_path(upload_path(job.stored_name), encoding=job.encoding)
        source.name = job.file_name
        purpose, mapping, fmt = prepare(
            source, purpose_key=job.purpose_key, fmt=job.format, mapping=job.mapping
        )
        run = ImportRun(
            source,
            mapping,
            purpose,
            format=fmt,
            valid_only=job.valid_only,
            dry_run=job.dry_run,
            actor=_actor_label(job),
            progress=tracker,
        )
        report = tracker.final = run_import(run)
        status = (
            ImportJob.Status.DONE if report.committed or job.dry_run else ImportJob.Status.REFUSED
        )
    except (FileProblem, ImportError_, OSError, LookupError, ValueError) as problem:
        error = str(problem) if not isinstance(problem, OSError) else _("The file cannot be read.")
    except Exception as failure:
        # Only the error's type: database errors can quote the row (an address).
        logger.error("import job %s stopped by an error (%s)", job_id, type(failure).__name__)
        error = _("The import stopped because of an error; the rows written so far are kept.")
    finally:
        written = tracker.written()
        if not job.dry_run:
            remove_upload(job.stored_name)
        finish_job(job, status, report=report, error=error, written=written)
        if written and not job.dry_run:
            _audit(job, report, written, complete=status == ImportJob.Status.DONE)
    return status


class _ProgressTracker:
    """The importer's progress callback: saves the counts on the job, now and then."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.final: ImportReport | None = None
        self.latest: ImportProgress | None = None
        self.phase = "checking"
        self.last_saved = 0.0

    def __call__(self, at: ImportProgress) -> None:
        self.latest = at
        now = time.monotonic()
        if now - self.last_saved < PROGRESS_EVERY_SECONDS and at.phase == self.phase:
            return
        self.last_saved, self.phase = now, at.phase
        status = ImportJob.Status.CHECKING if at.phase == "checking" else ImportJob.Status.WRITING
        retry_when_locked(
            lambda: ImportJob.objects.filter(pk=self.job.pk).update(
                status=status,
                rows_checked=at.rows_checked,
                rows_written=at.rows_written,
                rows_to_write=at.rows_to_write,
                bytes_read=at.bytes_read,
                bytes_total=at.bytes_total,
                updated_at=timezone.now(),
            )
        )

    def written(self) -> int:
        """Rows in committed chunks (also when the import stopped half way)."""
        if self.final is not None:
            return self.final.rows_written
        return self.latest.rows_written if self.latest is not None else 0


def finish_job(job, status, *, report=None, error: str = "", written: int = 0) -> None:
    values = {
        "status": status,
        "finished_at": timezone.now(),
        "error": error[:2000],
        "rows_written": written,
    }
    if not job.dry_run:
        values["stored_name"] = ""
    if report is not None:
        values["report"] = report.as_dict()
        values["rows_checked"] = report.rows
        values["rows_to_write"] = report.rows_to_write
    retry_when_locked(lambda: ImportJob.objects.filter(pk=job.pk).update(**values))


def _actor_label(job: ImportJob) -> str:
    return job.created_by.email if job.created_by is not None else "system"


def _audit(job: ImportJob, report: ImportReport | None, written: int, *, complete: bool) -> None:
    how = "import" if complete else "import stopped early, kept"
    detail = f"{how}: {written} rows written"
    if report is not None:
        detail += f", {report.created} new contacts, {report.events} consent events"
    retry_when_locked(
        lambda: audit(job.created_by, AuditAction.CREATE, job, object_type="import", detail=detail)
    )


def abandon_stale_jobs(older_than: timedelta) -> int:
    """Mark jobs that made no progress for ``older_than`` as failed (a killed
    worker) and remove their uploads; returns how many."""
    cutoff = timezone.now() - older_than
    stale = ImportJob.objects.exclude(status__in=ImportJob.FINISHED).filter(
        Q(updated_at__lt=cutoff)
    )
    count = 0
    for job in stale:
        remove_upload(job.stored_name)
        finish_job(
            job,
            ImportJob.Status.FAILED,
            error=_(
                "The import stopped without finishing (its worker was stopped); the rows "
                "written so far are kept. Import the file again to add the rest."
            ),
            written=job.rows_written,
        )
        count += 1
    return count


def sweep_uploads(older_than: timedelta = KEEP_LEFTOVERS, *, dry_run: bool = False) -> int:
    """Remove stored uploads last changed more than ``older_than`` ago; returns how many.

    Uploads of imports still waiting or running are kept; an import that
    made no progress for ``older_than`` (its worker was killed) is marked
    failed and its upload removed too.
    """
    in_use = set(
        ImportJob.objects.exclude(status__in=ImportJob.FINISHED)
        .filter(updated_at__gte=timezone.now() - older_than)
        .exclude(stored_name="")
        .values_list("stored_name", flat=True)
    )
    removed = remove_leftovers(older_than, keep=in_use, dry_run=dry_run)
    if not dry_run:
        abandon_stale_jobs(older_than)
    return removed
