"""Background work of the privacy confirmation, and the code that queues it.

The tasks call into ``notices.services`` for the work; everything that puts a
task on the queue lives here too, next to the task it queues, so that the
services never import the tasks (one direction: tasks -> services).
"""

from __future__ import annotations

import logging
from datetime import datetime

from django_tasks import default_task_backend, task

from akkoord.contacts.models import Contact, SourceKind
from akkoord.lib.db import retry_when_locked
from akkoord.notices.models import NoticeSettings
from akkoord.notices.services import (
    deliver_queued_notices,
    is_deferred,
    queue_notices,
    send_automatically,
)

logger = logging.getLogger(__name__)


@task()
def send_privacy_confirmation_task(contact_id: int, channel: str) -> bool:
    return send_automatically(contact_id, channel)


@task()
def send_privacy_confirmations_task(contact_ids: list[int], channel: str) -> int:
    """Kept for tasks queued before the notice queue existed; new work uses
    ``deliver_queued_notices_task``."""
    return sum(1 for contact_id in contact_ids if send_automatically(contact_id, channel))


@task()
def deliver_queued_notices_task() -> int:
    """Send what is due in the notice queue; queue itself again while work is left."""
    result = deliver_queued_notices()
    if result.next_due is not None:
        schedule_delivery(run_after=result.next_due)
    return result.sent


def on_contact_registered(sender, *, contact: Contact, channel: str, **kwargs) -> None:
    """Listener of ``contact_registered``: queue the mail unless the person must confirm first."""
    if is_deferred(contact):
        return
    queue_privacy_confirmation(contact, channel)


def on_contacts_registered(sender, *, contact_ids: list[int], channel: str, **kwargs) -> None:
    """Listener of ``contacts_registered`` (bulk registrations other than imports,
    which queue their notices themselves inside each chunk): queue durably."""
    if channel == str(SourceKind.IMPORT):
        return
    queue_notices(contact_ids, channel)
    schedule_delivery()


def queue_privacy_confirmation(contact: Contact, channel: str) -> None:
    """Queue the automatic mail (a task, so registration never waits for SMTP)."""
    if not NoticeSettings.current().sends_for(channel):
        return
    send_privacy_confirmation_task.enqueue(contact.pk, str(channel))


def schedule_delivery(run_after: datetime | None = None) -> bool:
    """Ask a worker to send the queued notices (now, or at ``run_after``).

    If the task queue cannot take the request (a database busy beyond the
    retries), nothing is lost: the rows stay queued and the next delivery
    (another import, the daily retention run) sends them. Returns whether the
    task was queued.
    """
    task_ = deliver_queued_notices_task
    if run_after is not None:
        if not default_task_backend.supports_defer:
            return False  # run inline (tests): the caller delivers again itself
        task_ = task_.using(run_after=run_after)
    try:
        retry_when_locked(task_.enqueue)
    except Exception:  # noqa: BLE001 - the queue rows are the durable record
        logger.warning("could not queue the delivery of privacy confirmations", exc_info=True)
        return False
    return True
