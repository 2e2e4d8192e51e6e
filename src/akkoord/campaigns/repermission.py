"""Re-permission (asking people whose consent cannot be proven whether they want to stay): Yes registers consent with proof, No or silence unsubscribes."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from akkoord.campaigns.models import Campaign, CampaignBody, Delivery, DeliveryStatus
from akkoord.consent.ledger import current_consent, record_event
from akkoord.consent.models import Channel, ConsentState
from akkoord.consent.rules import ConsentStatus, EventKind, MailClass


def record_answer(delivery: Delivery, answer: str, *, ip: str, user_agent: str) -> str:
    """Record a Yes or No click; returns the answer that counts.

    Yes counts only as the first answer. No always unsubscribes, also after a
    Yes or after the deadline: withdrawing is never refused.
    """
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().select_related("campaign").get(pk=delivery.pk)
        if answer == "yes":
            if locked.answer:
                return locked.answer
            _grant(locked, ip, user_agent)
        else:
            _withdraw(locked, ip, user_agent)
            if locked.answer in ("no", "deadline"):
                # The first No, or the deadline, stays the recorded answer.
                return "no"
        Delivery.objects.filter(pk=locked.pk).update(answer=answer, answered_at=timezone.now())
    return answer


def _click_proof(delivery: Delivery, ip: str, user_agent: str) -> dict:
    """The click, its moment and the mail it answered."""
    body = CampaignBody.objects.filter(
        campaign=delivery.campaign, language=delivery.language
    ).first()
    return {
        "campaign": delivery.campaign_id,
        "clicked_at": timezone.now().isoformat(),
        "ip": ip,
        "user_agent": user_agent[:300],
        "mail_subject": body.subject if body else "",
        "mail_text": body.text if body else "",
        "message_id": delivery.message_id,
    }


def _grant(delivery: Delivery, ip: str, user_agent: str) -> None:
    campaign = delivery.campaign
    record_event(
        delivery.contact,
        campaign.purpose,
        EventKind.GRANTED,
        channel=Channel.REPERMISSION,
        channel_ref=f"campaign:{campaign.pk}",
        proof=_click_proof(delivery, ip, user_agent),
        occurred_at=timezone.now(),
        # The click on a link sent to this address proves the address.
        needs_confirmation=False,
        actor=f"campaign:{campaign.pk}",
    )


def _withdraw(delivery: Delivery, ip: str, user_agent: str) -> None:
    campaign = delivery.campaign
    if current_consent(delivery.contact, campaign.purpose).status == ConsentStatus.WITHDRAWN:
        return
    record_event(
        delivery.contact,
        campaign.purpose,
        EventKind.WITHDRAWN,
        channel=Channel.REPERMISSION,
        channel_ref=f"campaign:{campaign.pk}",
        proof=_click_proof(delivery, ip, user_agent),
        occurred_at=timezone.now(),
        actor=f"campaign:{campaign.pk}",
    )


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
