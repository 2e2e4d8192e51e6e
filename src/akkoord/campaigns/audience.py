"""Who a campaign reaches: the preview before sending, and freezing the audience.

All selection goes through ``consent.audiences`` (the query twin of the pure
engine): this module only counts, samples and writes delivery rows. A campaign's
segment is passed to it as the set of contacts to decide about, so a segment
can only narrow the lawful audience, never add anyone to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from akkoord.campaigns.models import (
    Campaign,
    CampaignBody,
    CampaignStatus,
    Delivery,
    Exclusion,
)
from akkoord.consent import audiences
from akkoord.consent.explain import explain
from akkoord.consent.rules import ALLOWING_REASONS, MailClass, Reason
from akkoord.organisation.models import Organisation
from akkoord.segments.conditions import matching_contacts

SAMPLE_SIZE = 10
_CHUNK = 2000


class CampaignNotReady(ValueError):
    """The campaign cannot start; the message says why."""


def engine_args(campaign: Campaign, today=None) -> dict:
    return {
        "purpose": campaign.purpose,
        "mail_class": MailClass(campaign.mail_class),
        "audience": campaign.audience_value,
        "today": today or timezone.localdate(),
        "customer_months": Organisation.current().customer_relationship_months,
        "similar_categories": campaign.similar_categories(),
        "contacts": (
            matching_contacts(campaign.segment.definition) if campaign.segment_id else None
        ),
    }


@dataclass
class Preview:
    allowed: int = 0
    per_basis: dict[str, int] = field(default_factory=dict)
    excluded: list[tuple[str, str, int]] = field(default_factory=list)  # reason, text, count
    sample: list[str] = field(default_factory=list)

    @property
    def why_nobody(self) -> list[str]:
        """When nobody may be mailed: the reasons, most common first."""
        if self.allowed:
            return []
        return [text for _reason, text, _count in self.excluded]


def preview(campaign: Campaign, today=None) -> Preview:
    """Counts per basis and per exclusion reason, and a sample of names."""
    args = engine_args(campaign, today)
    decided = audiences.with_decisions(**args)
    counts = dict(decided.order_by().values_list("reason").annotate(n=Count("id")))
    result = Preview()
    for reason, count in sorted(counts.items(), key=lambda item: -item[1]):
        reason = Reason(reason)
        if reason in ALLOWING_REASONS:
            basis = ALLOWING_REASONS[reason].value
            result.per_basis[basis] = result.per_basis.get(basis, 0) + count
            result.allowed += count
        else:
            result.excluded.append((reason.value, explain(reason), count))
    sample = audiences.lawful_recipients(**args).order_by("id")[:SAMPLE_SIZE]
    result.sample = [contact.display_name for contact in sample]
    return result


def language_for(contact_language: str, available: list[str], fallback: str) -> str:
    if contact_language in available:
        return contact_language
    if fallback in available:
        return fallback
    return available[0]


def check_ready(campaign: Campaign) -> list[str]:
    """Problems that stop a campaign from starting (empty when it may start)."""
    from akkoord.campaigns.answer_links import campaign_problems
    from akkoord.lib.sandbox import TemplateError, compile_template

    problems = []
    languages = campaign.template.languages()
    if not languages:
        problems.append(
            str(_("The template needs a subject and a plain-text part in at least one language."))
        )
    for language in languages:
        for part in campaign.template.part(language):
            try:
                compile_template(part)
            except TemplateError as error:
                problems.append(str(error))
    if not problems:
        problems += campaign_problems(campaign.template, campaign.mail_class)
    if campaign.is_repermission and not campaign.deadline:
        problems.append(str(_("A re-permission mail needs an answer deadline.")))
    return problems


def excluded_contacts(campaign: Campaign, today=None):
    """The contacts the engine leaves out of ``campaign`` now, each with its ``reason``."""
    allowing = [reason.value for reason in ALLOWING_REASONS]
    return audiences.with_decisions(**engine_args(campaign, today)).exclude(reason__in=allowing)


def _record_exclusions(campaign: Campaign, today) -> None:
    rows = excluded_contacts(campaign, today).values_list("pk", "reason")
    chunk: list[Exclusion] = []
    for pk, reason in rows.iterator(chunk_size=_CHUNK):
        chunk.append(Exclusion(campaign=campaign, contact_id=pk, reason=reason))
        if len(chunk) >= _CHUNK:
            Exclusion.objects.bulk_create(chunk)
            chunk = []
    Exclusion.objects.bulk_create(chunk)


def freeze(campaign: Campaign, today=None) -> int:
    """Write one delivery row per lawful recipient and start sending.

    Idempotent: a campaign is frozen once (the row lock makes concurrent calls
    wait, and the second sees ``frozen_at``). Returns the number of recipients.
    Raises CampaignNotReady when the template is unusable or nobody may be mailed.
    """
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.frozen_at is not None:
            return locked.deliveries.count()
        if locked.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
            raise CampaignNotReady(_("This campaign was cancelled."))
        # Checked under the lock, on the template as it is copied below: an
        # edit since the campaign page was shown cannot slip through.
        problems = check_ready(locked)
        if problems:
            raise CampaignNotReady(" ".join(problems))
        available = locked.template.languages()
        for language in available:
            subject, html, text = locked.template.part(language)
            CampaignBody.objects.create(
                campaign=locked, language=language, subject=subject, html=html, text=text
            )
        recipients = audiences.lawful_recipients(**engine_args(locked, today)).values_list(
            "pk", "language", "reason", "c_grant_seq", "last_purchase_on", "c_purchase_id"
        )
        total = 0
        chunk: list[Delivery] = []
        for (
            pk,
            contact_language,
            reason,
            grant_seq,
            last_purchase,
            purchase_id,
        ) in recipients.iterator(chunk_size=_CHUNK):
            is_customer_basis = reason == Reason.OK_CUSTOMER
            basis = ALLOWING_REASONS[Reason(reason)]
            chunk.append(
                Delivery(
                    campaign=locked,
                    contact_id=pk,
                    language=language_for(contact_language, available, locked.fallback_language),
                    basis=basis.value,
                    reason=reason,
                    consent_seq=grant_seq if not is_customer_basis else None,
                    customer_last_purchase=last_purchase if is_customer_basis else None,
                    customer_purchase_id=purchase_id if is_customer_basis else None,
                )
            )
            if len(chunk) >= _CHUNK:
                Delivery.objects.bulk_create(chunk)
                total += len(chunk)
                chunk = []
        if chunk:
            Delivery.objects.bulk_create(chunk)
            total += len(chunk)
        if total == 0:
            # Leaving the block by an exception rolls everything back.
            raise CampaignNotReady(
                _("Nobody in this audience may lawfully receive this mail. See the preview.")
            )
        _record_exclusions(locked, today)
        now = timezone.now()
        # The sending lease starts here: whoever starts the workers (a task,
        # `akkoord send_campaign`) has one lease before the watchdog steps in.
        Campaign.objects.filter(pk=locked.pk).update(
            frozen_at=now, started_at=now, status=CampaignStatus.SENDING, sending_beat_at=now
        )
    campaign.refresh_from_db()
    return total
