"""Taking over campaigns whose sending worker died.

A live sending worker renews its campaign's lease (``Campaign.sending_beat_at``)
while it sends or waits on purpose. A worker killed with ``kill -9`` (or a
machine that went away) stops renewing; its task never finishes, so nothing
would start the campaign again. The watchdog runs inside every
``akkoord worker`` (on its heartbeat thread, at start and every few seconds)
and as ``akkoord campaign_watchdog`` for installations without that worker:
it queues a new sending task for each sending campaign whose lease ran out,
at most once per lease, so a restarted or another worker takes over within
about one lease plus the heartbeat interval.

The new task claims the dead worker's delivery rows once their own lease ran
out (``pipeline.claim``). Rows recorded as sent are never sent again; what the
dead worker had handed to the SMTP server but not yet recorded may be sent
once more (the crash contract in ``pipeline``).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from akkoord.campaigns.models import Campaign, CampaignStatus

logger = logging.getLogger(__name__)


def _expired(now) -> Q:
    cutoff = now - timedelta(seconds=settings.AKKOORD_SENDING_LEASE_SECONDS)
    return (
        Q(status=CampaignStatus.SENDING)
        & (Q(sending_beat_at__isnull=True) | Q(sending_beat_at__lt=cutoff))
        & (Q(requeued_at__isnull=True) | Q(requeued_at__lt=cutoff))
    )


def requeue_stalled(now=None) -> list[int]:
    """Queue a sending task for every sending campaign nobody works on; returns their ids.

    Several watchdogs may run at once: each campaign is taken by a conditional
    UPDATE of ``requeued_at``, so only one of them queues it.
    """
    from akkoord.campaigns.tasks import send_campaign_task

    now = now or timezone.now()
    requeued = []
    for pk in Campaign.objects.filter(_expired(now)).values_list("pk", flat=True):
        if Campaign.objects.filter(_expired(now), pk=pk).update(requeued_at=now):
            send_campaign_task.enqueue(pk)
            logger.warning("campaign %s: no live sending worker; queued a new sending task", pk)
            requeued.append(pk)
    return requeued


def any_stalled(now=None) -> bool:
    """A sending campaign without a live worker for longer than the lease (for /healthz)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.AKKOORD_SENDING_LEASE_SECONDS)
    return Campaign.objects.filter(
        status=CampaignStatus.SENDING, sending_beat_at__lt=cutoff
    ).exists()
