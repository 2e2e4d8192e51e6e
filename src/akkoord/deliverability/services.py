"""Acting on bounce and complaint reports: the one writer of ``DeliveryReport``.

Every way in (the SMTP receiver, webhooks, the API, the mailbox reader) ends
in ``record_report``. It is idempotent by the report's fingerprint: the same
report twice changes nothing the second time. What it does:

* hard bounce: the address is excluded (``Contact.hard_bounced_at``, the same
  mark the sending pipeline sets on an immediate 5xx, which the engine excludes);
* soft bounce: excluded the same way once ``AKKOORD_SOFT_BOUNCE_LIMIT`` soft
  bounces (distinct deliveries) fell within ``AKKOORD_SOFT_BOUNCE_DAYS``;
* complaint: a ``complained`` ledger event (``consent.ledger.record_complaint``)
  that withdraws every marketing purpose, with the report's facts and the
  digest of the raw report as proof (the raw report itself is erased after a
  short period; the ledger keeps no copy of it).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from akkoord.accounts.audit import audit
from akkoord.accounts.models import AuditAction
from akkoord.campaigns.models import Campaign, Delivery
from akkoord.consent.ledger import record_complaint
from akkoord.contacts.models import Contact
from akkoord.deliverability import verp
from akkoord.deliverability.models import DeliveryReport, ReportKind
from akkoord.deliverability.parse import ParsedReport, Verdict, parse_report

logger = logging.getLogger(__name__)

RAW_LIMIT = 200_000


class Outcome(StrEnum):
    RECORDED = "recorded"
    DUPLICATE = "duplicate"
    AUTO_REPLY = "auto_reply"
    NOT_A_BOUNCE = "not_a_bounce"
    UNKNOWN_DELIVERY = "unknown_delivery"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    report: DeliveryReport | None = None

    @property
    def accepted(self) -> bool:
        """Taken (recorded now or before): the sender need not send it again."""
        return self.outcome in (Outcome.RECORDED, Outcome.DUPLICATE)


_VERDICT_KINDS = {
    Verdict.HARD: ReportKind.HARD,
    Verdict.SOFT: ReportKind.SOFT,
    Verdict.COMPLAINT: ReportKind.COMPLAINT,
}


def find_delivery(
    *, envelope_recipient: str = "", text: str = "", message_id: str = "", email: str = ""
) -> Delivery | None:
    """The delivery a report is about, surest way first.

    The VERP address the report came to; a VERP address quoted in the report;
    the original's Message-ID; last, for services that rewrite both, the most
    recent delivery sent to the address.
    """
    delivery_id = verp.delivery_id_from_address(envelope_recipient) if envelope_recipient else None
    if delivery_id is None and text:
        delivery_id = verp.delivery_id_in_text(text)
    # Only what acting needs: the whole rows of delivery, campaign and domain
    # (with its key) cost more to build and fetch than the rest of a report.
    query = Delivery.objects.only("pk", "campaign_id", "contact_id", "sent_at")
    if delivery_id is not None:
        return query.filter(pk=delivery_id).first()
    if message_id:
        message_id = message_id.strip()
        if not message_id.startswith("<"):
            message_id = f"<{message_id}>"
        found = query.filter(message_id=message_id).first()
        if found is not None:
            return found
    if email:
        from akkoord.contacts.emails import normalise_email

        try:
            normalised = normalise_email(email)
        except ValueError:
            return None
        return (
            query.filter(contact__email=normalised, sent_at__isnull=False)
            .order_by("-sent_at", "-pk")
            .first()
        )
    return None


def _sending_domain(campaign_id: int) -> str:
    return (
        Campaign.objects.filter(pk=campaign_id)
        .values_list("sending_domain__domain", flat=True)
        .first()
        or ""
    )


def fingerprint(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def ingest_mail(raw: bytes, *, source: str, envelope_recipient: str = "") -> Result:
    """Read one mail (a DSN, an ARF report, anything) and act on it."""
    parsed = parse_report(raw)
    if parsed.verdict == Verdict.AUTO_REPLY:
        return Result(Outcome.AUTO_REPLY)
    if parsed.verdict not in _VERDICT_KINDS:
        return Result(Outcome.NOT_A_BOUNCE)
    delivery = find_delivery(
        envelope_recipient=envelope_recipient,
        text=parsed.searchable,
        message_id=parsed.original_message_id,
    )
    if delivery is None:
        return Result(Outcome.UNKNOWN_DELIVERY)
    # The same report again (its own Message-ID), or without one the same bytes.
    identity = parsed.report_message_id or hashlib.sha256(raw).hexdigest()
    return record_report(
        _VERDICT_KINDS[parsed.verdict],
        delivery,
        source=source,
        fingerprint=fingerprint("mail", delivery.pk, parsed.verdict, identity),
        parsed=parsed,
        raw=raw.decode("utf-8", "replace"),
    )


def _occurred(moment: datetime | None, sent_at: datetime | None) -> datetime:
    """When it happened: never in the future (the ledger refuses that), never
    before the message was sent (a wrong clock in a report must not date a
    complaint before the consent the message was sent on), now when unknown."""
    now = timezone.now()
    if moment is None or moment > now:
        return now
    if sent_at is not None and moment < sent_at:
        return sent_at
    return moment


def record_report(
    kind: ReportKind,
    delivery: Delivery,
    *,
    source: str,
    fingerprint: str,
    parsed: ParsedReport | None = None,
    status: str = "",
    diagnostic: str = "",
    feedback_type: str = "",
    occurred_at: datetime | None = None,
    raw: str = "",
) -> Result:
    """Store one report and act on it, once. Returns what happened."""
    if parsed is not None:
        status = status or parsed.status
        diagnostic = diagnostic or parsed.diagnostic
        feedback_type = feedback_type or parsed.feedback_type
        occurred_at = occurred_at or parsed.occurred_at
    if kind == ReportKind.SOFT and status.startswith("5"):
        kind = ReportKind.HARD
    if kind == ReportKind.HARD and status.startswith("4"):
        kind = ReportKind.SOFT
    occurred = _occurred(occurred_at, delivery.sent_at)
    try:
        with transaction.atomic():
            report = DeliveryReport.objects.create(
                kind=kind,
                source=source,
                fingerprint=fingerprint,
                delivery=delivery,
                campaign_id=delivery.campaign_id,
                sending_domain=_sending_domain(delivery.campaign_id),
                contact_id=delivery.contact_id,
                status_code=status[:12],
                diagnostic=diagnostic[:300],
                feedback_type=feedback_type[:30],
                occurred_at=occurred,
                raw=raw[:RAW_LIMIT],
                excluded=kind == ReportKind.HARD,
            )
            _act(report)
    except IntegrityError:
        if DeliveryReport.objects.filter(fingerprint=fingerprint).exists():
            return Result(Outcome.DUPLICATE)
        raise
    logger.info("delivery report %s: %s for delivery %s", report.pk, kind, delivery.pk)
    return Result(Outcome.RECORDED, report)


def _act(report: DeliveryReport) -> None:
    if report.contact_id is None:  # the person was erased since: nothing to act on
        return
    if report.kind == ReportKind.COMPLAINT:
        contact = Contact.objects.select_for_update().get(pk=report.contact_id)
        event = record_complaint(contact, report=_proof(report), occurred_at=report.occurred_at)
        report.complaint_seq = event.seq
        report.save(update_fields=["complaint_seq"])
        return
    if report.kind == ReportKind.SOFT:
        if not _soft_limit_reached(report):
            return
        report.excluded = True
        report.save(update_fields=["excluded"])
    # One conditional UPDATE: an earlier exclusion keeps its date.
    Contact.objects.filter(pk=report.contact_id, hard_bounced_at__isnull=True).update(
        hard_bounced_at=report.occurred_at
    )


def _soft_limit_reached(report: DeliveryReport) -> bool:
    since = report.occurred_at - timedelta(days=settings.AKKOORD_SOFT_BOUNCE_DAYS)
    deliveries = (
        DeliveryReport.objects.filter(
            contact_id=report.contact_id,
            kind=ReportKind.SOFT,
            occurred_at__gte=since,
            undone_at__isnull=True,
        )
        .values("delivery_id")
        .distinct()
        .count()
    )
    return deliveries >= settings.AKKOORD_SOFT_BOUNCE_LIMIT


def _proof(report: DeliveryReport) -> dict:
    """What the ledger keeps of a complaint: facts and a digest, no copy of the report."""
    return {
        "report_id": report.pk,
        "source": report.source,
        "feedback_type": report.feedback_type or "abuse",
        "campaign": report.campaign_id,
        "delivery": report.delivery_id,
        "reported_at": report.occurred_at.isoformat(),
        "raw_sha256": hashlib.sha256(report.raw.encode()).hexdigest() if report.raw else "",
    }


class CannotUndo(ValueError):
    """The report cannot be undone; the message says why."""


def undo_report(report: DeliveryReport, user) -> None:
    """Staff say a bounce was wrong: lift the exclusion it caused (audited)."""
    from django.utils.translation import gettext as _

    with transaction.atomic():
        locked = DeliveryReport.objects.select_for_update().get(pk=report.pk)
        if locked.kind == ReportKind.COMPLAINT:
            raise CannotUndo(
                _(
                    "A complaint withdrew consent in the ledger; only the person can give "
                    "consent again."
                )
            )
        if locked.is_undone:
            raise CannotUndo(_("This report was already undone."))
        locked.undone_at = timezone.now()
        locked.undone_by = user
        locked.save(update_fields=["undone_at", "undone_by"])
        lifted = False
        if locked.contact_id is not None and locked.excluded:
            still_excluded = DeliveryReport.objects.filter(
                contact_id=locked.contact_id, excluded=True, undone_at__isnull=True
            ).exists()
            if not still_excluded:
                lifted = bool(
                    Contact.objects.filter(pk=locked.contact_id).update(hard_bounced_at=None)
                )
        audit(
            user,
            AuditAction.CHANGE,
            locked,
            detail=f"undo {locked.kind}; contact {locked.contact_id}"
            + ("; exclusion lifted" if lifted else ""),
        )
    report.refresh_from_db()


def erase_reports_of(contact: Contact) -> None:
    """Erasure: the reports about a person lose their raw text and diagnostic."""
    DeliveryReport.objects.filter(contact=contact).update(
        raw="", diagnostic="", raw_erased_at=timezone.now(), contact=None
    )


def erase_old_raw(now: datetime | None = None, *, dry_run: bool = False) -> int:
    """Retention: erase raw reports older than ``AKKOORD_BOUNCE_RAW_DAYS``."""
    now = now or timezone.now()
    old = DeliveryReport.objects.filter(
        raw_erased_at__isnull=True,
        received_at__lt=now - timedelta(days=settings.AKKOORD_BOUNCE_RAW_DAYS),
    )
    if dry_run:
        return old.count()
    return old.update(raw="", raw_erased_at=now)
