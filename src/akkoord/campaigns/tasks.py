"""Background work of campaigns (Django Tasks): sending, and re-permission deadlines."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from akkoord.campaigns.models import Campaign, CampaignStatus


@task()
def send_campaign_task(campaign_id: int) -> str:
    """One sending worker. Several run at once; they share the work by claiming rows."""
    from akkoord.campaigns.audience import CampaignNotReady, freeze
    from akkoord.campaigns.messenger import SmtpMessenger
    from akkoord.campaigns.pipeline import run_worker
    from akkoord.campaigns.services import _enqueue_workers

    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        return "gone"
    if campaign.status == CampaignStatus.SCHEDULED:
        try:
            freeze(campaign)
        except CampaignNotReady:
            Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SCHEDULED).update(
                status=CampaignStatus.DRAFT
            )
            return "not ready"
        _enqueue_workers(campaign)
    if campaign.status != CampaignStatus.SENDING:
        return campaign.status
    stats = run_worker(
        campaign_id,
        SmtpMessenger(),
        max_idle_seconds=30,
        lease_seconds=settings.AKKOORD_SENDING_LEASE_SECONDS,
    )
    if (
        stats.stopped_because == "waiting for retries"
        and send_campaign_task.get_backend().supports_defer
    ):
        run_after = timezone.now() + timedelta(minutes=1)
        # Waiting on purpose: the lease runs from when the next task is due,
        # so the watchdog and /healthz do not take the wait for a dead worker.
        Campaign.objects.filter(pk=campaign_id).update(sending_beat_at=run_after)
        send_campaign_task.using(run_after=run_after).enqueue(campaign_id)
    return stats.stopped_because


@task()
def repermission_deadlines_task() -> int:
    from akkoord.campaigns.repermission import process_deadlines

    return process_deadlines()
