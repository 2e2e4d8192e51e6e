"""Background work of the privacy confirmation."""

from django_tasks import task


@task()
def send_privacy_confirmation_task(contact_id: int, channel: str) -> bool:
    from akkoord.notices.services import send_automatically

    return send_automatically(contact_id, channel)


@task()
def send_privacy_confirmations_task(contact_ids: list[int], channel: str) -> int:
    from akkoord.notices.services import send_automatically

    return sum(1 for contact_id in contact_ids if send_automatically(contact_id, channel))
