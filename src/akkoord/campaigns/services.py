"""Starting, scheduling, pausing, resuming and cancelling campaigns.

Pause and resume are states of the campaign, not code paths: workers look at
the status before every batch and every group of messages, give back what
they claimed, and stop.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from akkoord.accounts.audit import audit
from akkoord.campaigns.audience import CampaignNotReady, check_ready, freeze, preview
from akkoord.campaigns.models import Campaign, CampaignStatus, Delivery, DeliveryStatus


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


def _enqueue_workers(campaign: Campaign, run_after=None) -> None:
    from akkoord.campaigns.tasks import send_campaign_task

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


def start(campaign: Campaign, user, *, when=None) -> str:
    """Send now or at ``when``. Raises CampaignNotReady with the reason."""
    if not campaign.can_start:
        raise CampaignNotReady(_("This campaign has already started."))
    problems = check_ready(campaign)
    if problems:
        raise CampaignNotReady(" ".join(problems))
    if not preview(campaign).allowed:
        raise CampaignNotReady(
            _("Nobody in this audience may lawfully receive this mail. See the preview.")
        )
    if when is not None and when > timezone.now():
        Campaign.objects.filter(pk=campaign.pk).update(
            status=CampaignStatus.SCHEDULED, scheduled_at=when
        )
        audit(user, "change", campaign, detail="scheduled")
        _enqueue_workers(campaign, run_after=when)
        return "scheduled"
    freeze(campaign)
    audit(user, "send", campaign, detail="started")
    _enqueue_workers(campaign)
    if campaign.is_repermission:
        _enqueue_deadline(campaign)
    return "started"


def _enqueue_deadline(campaign: Campaign) -> None:
    """Run the deadline job the day after the deadline (also: `akkoord campaign_deadlines`)."""
    from datetime import datetime, time, timedelta

    from akkoord.campaigns.tasks import repermission_deadlines_task

    if not repermission_deadlines_task.get_backend().supports_defer:
        return
    due = timezone.make_aware(datetime.combine(campaign.deadline + timedelta(days=1), time(1)))
    task = repermission_deadlines_task.using(run_after=due)
    transaction.on_commit(task.enqueue)


def pause(campaign: Campaign, user) -> bool:
    changed = Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SENDING).update(
        status=CampaignStatus.PAUSED
    )
    if changed:
        audit(user, "change", campaign, detail="paused")
    return bool(changed)


def resume(campaign: Campaign, user) -> bool:
    changed = Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.PAUSED).update(
        status=CampaignStatus.SENDING
    )
    if changed:
        audit(user, "change", campaign, detail="resumed")
        _enqueue_workers(campaign)
    return bool(changed)


def cancel(campaign: Campaign, user) -> bool:
    with transaction.atomic():
        changed = Campaign.objects.filter(
            pk=campaign.pk,
            status__in=[
                CampaignStatus.DRAFT,
                CampaignStatus.SCHEDULED,
                CampaignStatus.SENDING,
                CampaignStatus.PAUSED,
            ],
        ).update(status=CampaignStatus.CANCELLED, finished_at=timezone.now())
        if changed:
            Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.QUEUED).update(
                status=DeliveryStatus.SKIPPED, skip_reason="cancelled"
            )
            audit(user, "change", campaign, detail="cancelled")
    return bool(changed)
