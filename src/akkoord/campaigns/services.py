"""Starting, scheduling, pausing, resuming and cancelling campaigns.

Pause and resume are states of the campaign, not code paths: workers look at
the status before every batch and every group of messages, give back what
they claimed, and stop.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from akkoord.accounts.audit import audit
from akkoord.campaigns.audience import CampaignNotReady, check_ready, freeze, preview
from akkoord.campaigns.models import Campaign, CampaignStatus, Delivery, DeliveryStatus
from akkoord.campaigns.tasks import enqueue_workers, repermission_deadlines_task


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
        enqueue_workers(campaign, run_after=when)
        return "scheduled"
    freeze(campaign)
    audit(user, "send", campaign, detail="started")
    enqueue_workers(campaign)
    if campaign.is_repermission:
        _enqueue_deadline(campaign)
    return "started"


def _enqueue_deadline(campaign: Campaign) -> None:
    """Run the deadline job the day after the deadline (also: `akkoord campaign_deadlines`)."""
    from datetime import datetime, time, timedelta

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
        enqueue_workers(campaign)
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
