"""Background work of the privacy confirmation."""

from django_tasks import task


@task()
def send_privacy_confirmation_task(contact_id: int, channel: str) -> bool:
    from akkoord.notices.services import send_automatically

    return send_automatically(contact_id, channel)


@task()
def send_privacy_confirmations_task(contact_ids: list[int], channel: str) -> int:
    """Kept for tasks queued before the notice queue existed; new work uses
    ``deliver_queued_notices_task``."""
    from akkoord.notices.services import send_automatically

    return sum(1 for contact_id in contact_ids if send_automatically(contact_id, channel))


@task()
def deliver_queued_notices_task() -> int:
    """Send what is due in the notice queue; queue itself again while work is left."""
    from akkoord.notices.services import deliver_queued_notices, schedule_delivery

    result = deliver_queued_notices()
    if result.next_due is not None:
        schedule_delivery(run_after=result.next_due)
    return result.sent
