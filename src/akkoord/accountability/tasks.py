"""Background work of the accountability app (Django Tasks), and the code that queues it.

Tasks call into the app's modules for the work; starting work that may be
queued lives here, next to its task, so that those modules never import the
tasks (one direction).
"""

from django.utils import timezone
from django_tasks import task

from akkoord.accountability.breaches import affected_contacts, notify_affected
from akkoord.accountability.models import Breach

# Above this many persons the breach notification runs as a background task.
BACKGROUND_ABOVE = 50


@task()
def run_retention(dry_run: bool = False) -> dict:
    """The daily retention job; see ``accountability.retention``."""
    from akkoord.accountability.retention import run

    return run(dry_run=dry_run).report


@task()
def notify_breach(breach_id: int, actor: str = "system") -> int:
    """Send the breach notification to every affected person not yet notified."""
    return notify_affected(breach_id, actor=actor)


def start_notification(breach: Breach, *, actor: str) -> bool:
    """Notify now, or as a background task for large numbers; True if queued."""
    Breach.objects.filter(pk=breach.pk).update(notification_started_at=timezone.now())
    if affected_contacts(breach).count() > BACKGROUND_ABOVE:
        notify_breach.enqueue(breach.pk, actor)
        return True
    notify_affected(breach.pk, actor=actor)
    return False
