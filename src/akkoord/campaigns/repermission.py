"""Re-permission (DOMAIN §3): Yes registers consent with proof, No or silence unsubscribes."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from akkoord.campaigns.models import Campaign, CampaignBody, Delivery, DeliveryStatus
from akkoord.consent.ledger import record_event
from akkoord.consent.models import Channel, ConsentState
from akkoord.consent.rules import ConsentStatus, EventKind, MailClass


def record_answer(delivery: Delivery, answer: str, *, ip: str, user_agent: str) -> str:
    """Record a Yes or No click; returns the answer that counts (the first one)."""
    campaign = delivery.campaign
    contact = delivery.contact
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.answer:
            return locked.answer
        now = timezone.now()
        body = CampaignBody.objects.filter(campaign=campaign, language=locked.language).first()
        proof = {
            "campaign": campaign.pk,
            "clicked_at": now.isoformat(),
            "ip": ip,
            "user_agent": user_agent[:300],
            "mail_subject": body.subject if body else "",
            "mail_text": body.text if body else "",
            "message_id": locked.message_id,
        }
        if answer == "yes":
            record_event(
                contact,
                campaign.purpose,
                EventKind.GRANTED,
                channel=Channel.REPERMISSION,
                channel_ref=f"campaign:{campaign.pk}",
                proof=proof,
                occurred_at=now,
                # The click on a link sent to this address proves the address.
                needs_confirmation=False,
                actor=f"campaign:{campaign.pk}",
            )
        else:
            record_event(
                contact,
                campaign.purpose,
                EventKind.WITHDRAWN,
                channel=Channel.REPERMISSION,
                channel_ref=f"campaign:{campaign.pk}",
                proof=proof,
                occurred_at=now,
                actor=f"campaign:{campaign.pk}",
            )
        Delivery.objects.filter(pk=locked.pk).update(answer=answer, answered_at=now)
    return answer


def process_deadlines(today=None) -> int:
    """Unsubscribe everyone who did not answer a re-permission mail by its deadline.

    Only people whose consent is still unproven are withdrawn: whoever since
    gave consent another way keeps it. Returns the number of people withdrawn.
    """
    today = today or timezone.localdate()
    withdrawn = 0
    campaigns = Campaign.objects.filter(
        mail_class=MailClass.REPERMISSION,
        deadline__lt=today,
        deadline_processed_at__isnull=True,
        frozen_at__isnull=False,
    )
    for campaign in campaigns:
        silent = Delivery.objects.filter(
            campaign=campaign, status=DeliveryStatus.SENT, answer="", contact__isnull=False
        ).select_related("contact")
        for delivery in silent.iterator(chunk_size=500):
            with transaction.atomic():
                still_unproven = ConsentState.objects.filter(
                    contact=delivery.contact,
                    purpose=campaign.purpose,
                    status=ConsentStatus.UNPROVEN,
                ).exists()
                if still_unproven:
                    record_event(
                        delivery.contact,
                        campaign.purpose,
                        EventKind.WITHDRAWN,
                        channel=Channel.REPERMISSION,
                        channel_ref=f"campaign:{campaign.pk}:deadline",
                        proof={"campaign": campaign.pk, "deadline": campaign.deadline.isoformat()},
                        actor="system",
                    )
                    withdrawn += 1
                Delivery.objects.filter(pk=delivery.pk).update(
                    answer="deadline", answered_at=timezone.now()
                )
        Campaign.objects.filter(pk=campaign.pk).update(deadline_processed_at=timezone.now())
    return withdrawn
