"""Background work of campaigns (Django Tasks): sending, and re-permission deadlines.

Queuing the sending workers lives here too, next to their task: the services
call it, and the tasks never import the services (one direction).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tasks import task

from akkoord.campaigns.models import Campaign, CampaignStatus


@task()
def send_campaign_task(campaign_id: int) -> str:
    """One sending worker. Several run at once; they share the work by claiming rows."""
    from akkoord.campaigns.audience import CampaignNotReady, freeze
    from akkoord.campaigns.messenger import SmtpMessenger
    from akkoord.campaigns.pipeline import run_worker

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
        enqueue_workers(campaign)
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


def worker_count() -> int:
    """Sending workers per campaign: two by default, one on SQLite.

    SQLite has one write lock that every worker's commit groups queue for, and
    SQLite installs are small: one worker is the safe default there. On a
    2-core machine two add little either way (bench/send.py, 2026-12-04,
    100,000 contacts, sink on the same machine: SQLite 406 -> 456 messages/s,
    PostgreSQL 336 -> 438). AKKOORD_CAMPAIGN_WORKERS (environment) wins.
    """
    configured = getattr(settings, "AKKOORD_CAMPAIGN_WORKERS", None)
    if configured is None:
        return 1 if connection.vendor == "sqlite" else 2
    return max(1, int(configured))


def enqueue_workers(campaign: Campaign, run_after=None) -> None:
    """Queue the sending workers of ``campaign`` once the caller's transaction commits."""
    task = send_campaign_task
    if run_after is not None:
        if not task.get_backend().supports_defer:
            # The immediate backend (tests) cannot wait; the database and RQ
            # backends can. `akkoord send_campaign` also starts a due campaign.
            return
        task = task.using(run_after=run_after)
    if run_after is None:
        # The lease starts now: if no worker picks the task up within it, the
        # campaign shows as stalled and the watchdog queues it again.
        Campaign.objects.filter(pk=campaign.pk).update(sending_beat_at=timezone.now())
    for _index in range(worker_count() if run_after is None else 1):
        transaction.on_commit(lambda task=task: task.enqueue(campaign.pk))
