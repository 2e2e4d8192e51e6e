"""Background work of the accountability app (Django Tasks)."""

from django_tasks import task


@task()
def run_retention(dry_run: bool = False) -> dict:
    """The daily retention job; see ``accountability.retention``."""
    from akkoord.accountability.retention import run

    return run(dry_run=dry_run).report


@task()
def notify_breach(breach_id: int, actor: str = "system") -> int:
    """Send the breach notification to every affected person not yet notified."""
    from akkoord.accountability.breaches import notify_affected

    return notify_affected(breach_id, actor=actor)
