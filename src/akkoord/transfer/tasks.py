"""Background work of imports and exports (Django Tasks)."""

from django_tasks import task


@task()
def run_import_job_task(job_id: int) -> str:
    """Check and write one staff import; see ``transfer.jobs.run_job``."""
    from akkoord.transfer.jobs import run_job

    return run_job(job_id)
