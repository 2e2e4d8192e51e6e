"""Background work of imports and exports (Django Tasks), and the code that queues it.

Tasks call ``transfer.jobs`` for the work; queuing a job lives here, next to
its task, so that ``transfer.jobs`` never imports the tasks (one direction).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django_tasks import task

from akkoord.lib.db import retry_when_locked
from akkoord.transfer.jobs import finish_job, run_job
from akkoord.transfer.models import ImportJob


@task()
def run_import_job_task(job_id: int) -> str:
    """Check and write one staff import; see ``transfer.jobs.run_job``."""
    return run_job(job_id)


def start_job(
    user,
    *,
    stored_name: str,
    file_name: str,
    purpose_key: str,
    fmt: str,
    encoding: str,
    mapping: dict,
    valid_only: bool,
    dry_run: bool,
) -> ImportJob:
    """Create the job and queue it; returns at once."""
    job = ImportJob.objects.create(
        created_by=user,
        stored_name=stored_name,
        file_name=file_name[:150],
        purpose_key=purpose_key,
        format=fmt,
        encoding=encoding,
        mapping=mapping,
        valid_only=valid_only,
        dry_run=dry_run,
    )
    try:
        retry_when_locked(lambda: run_import_job_task.enqueue(job.pk))
    except Exception as error:
        finish_job(
            job, ImportJob.Status.FAILED, error=_("The import could not be queued; try again.")
        )
        raise error
    return job
