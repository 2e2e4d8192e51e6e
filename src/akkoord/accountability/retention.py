"""The retention job: erase what has expired, and report it in counts.

The rule lives in ``retention_rules`` (pure); this module gathers the facts
from the database, applies the rule, and erases through the same
``erase_contact`` the customer centre uses. It also removes unconfirmed
sign-ups (``signup.expiry``), old audit-log entries, old caught mail and
uploaded import files left behind (``transfer.uploads``), and asks a worker to
send privacy confirmations still in the notice queue.
``run(dry_run=True)`` reports the same counts without changing anything.

Reports hold counts, never names or addresses.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from akkoord.accountability.models import AccountabilitySettings, RetentionRun
from akkoord.accountability.register import category_days
from akkoord.accountability.retention_rules import (
    BASIS_STATUSES,
    RetentionFacts,
    is_expired,
)
from akkoord.consent.models import ConsentState
from akkoord.consent.rules import customer_cutoff
from akkoord.contacts.erasure import erase_contact
from akkoord.contacts.models import Activity, Contact, ContactFieldValue, DataCategory
from akkoord.deliverability.services import erase_old_raw
from akkoord.organisation.models import Organisation

logger = logging.getLogger(__name__)

DEFAULT_DAYS = 730
_BATCH = 1000


def _facts_for(contacts: list[dict], days_by_category: dict[str, int]) -> dict[int, RetentionFacts]:
    ids = [c["pk"] for c in contacts]
    statuses: dict[int, list[str]] = defaultdict(list)
    purpose_days: dict[int, list[int]] = defaultdict(list)
    for contact_id, status, days in ConsentState.objects.filter(contact_id__in=ids).values_list(
        "contact_id", "status", "purpose__retention_days"
    ):
        statuses[contact_id].append(status)
        purpose_days[contact_id].append(days)
    categories: dict[int, set[str]] = defaultdict(set)
    for contact_id, category in ContactFieldValue.objects.filter(contact_id__in=ids).values_list(
        "contact_id", "field__category"
    ):
        categories[contact_id].add(category)
    facts = {}
    for c in contacts:
        held = categories[c["pk"]] | {DataCategory.CONTACT.value}
        if c["first_name"] or c["last_name"]:
            held.add(DataCategory.IDENTITY.value)
        if c["last_purchase_on"] is not None:
            held.add(DataCategory.PURCHASES.value)
        facts[c["pk"]] = RetentionFacts(
            created_at=c["created_at"],
            statuses=tuple(statuses[c["pk"]]),
            purpose_days=tuple(purpose_days[c["pk"]]),
            category_days=tuple(days_by_category.get(k, DEFAULT_DAYS) for k in sorted(held)),
            last_consent_change=c["last_consent_change"],
            last_purchase_on=c["last_purchase_on"],
            last_activity=c["last_activity"],
        )
    return facts


def expired_contact_ids(now: datetime | None = None) -> list[int]:
    """Ids of the contacts the retention rule says have expired at ``now``."""
    now = now or timezone.now()
    organisation = Organisation.current()
    cutoff = customer_cutoff(timezone.localdate(now), organisation.customer_relationship_months)
    days_by_category = category_days()
    last_change = (
        ConsentState.objects.filter(contact=OuterRef("pk"))
        .values("contact")
        .annotate(m=Max("changed_at"))
        .values("m")
    )
    last_activity = (
        Activity.objects.filter(contact=OuterRef("pk"))
        .values("contact")
        .annotate(m=Max("occurred_at"))
        .values("m")
    )
    # The database drops everyone with a basis; the pure rule decides the rest.
    candidates = (
        Contact.objects.exclude(consent_states__status__in=BASIS_STATUSES)
        .exclude(last_purchase_on__gte=cutoff)
        .annotate(last_consent_change=Subquery(last_change), last_activity=Subquery(last_activity))
        .order_by("pk")
        .values(
            "pk",
            "created_at",
            "first_name",
            "last_name",
            "last_purchase_on",
            "last_consent_change",
            "last_activity",
        )
    )
    expired = []
    batch: list[dict] = []
    for row in candidates.iterator(chunk_size=_BATCH):
        batch.append(row)
        if len(batch) >= _BATCH:
            expired += _decide(batch, days_by_category, now, cutoff)
            batch = []
    if batch:
        expired += _decide(batch, days_by_category, now, cutoff)
    return expired


def _decide(batch, days_by_category, now, cutoff) -> list[int]:
    facts = _facts_for(batch, days_by_category)
    return [
        pk
        for pk, f in facts.items()
        if is_expired(f, now=now, customer_cutoff=cutoff, default_days=DEFAULT_DAYS)
    ]


def _old_logs(now: datetime):
    from akkoord.accounts.models import AuditEntry
    from akkoord.mail.models import CaughtMessage

    config = AccountabilitySettings.current()
    return (
        AuditEntry.objects.filter(at__lt=now - timedelta(days=config.audit_log_days)),
        CaughtMessage.objects.filter(received_at__lt=now - timedelta(days=config.caught_mail_days)),
    )


def _unconfirmed_signups(now: datetime, dry_run: bool) -> dict:
    try:
        from akkoord.signup import expiry
        from akkoord.signup.models import PendingSignup
    except ImportError:  # the sign-up app is optional for this job
        return {}
    if dry_run:
        expired = PendingSignup.objects.filter(confirmed_at__isnull=True, expires_at__lte=now)
        return {"unconfirmed_signups": expired.count()}
    report = expiry.expire_unconfirmed(now)
    return {
        "unconfirmed_signups": report.signups_removed,
        "unconfirmed_contacts": report.contacts_removed,
    }


def _import_uploads(dry_run: bool) -> dict:
    """Uploaded import files left behind (never imported, or a killed worker's)."""
    from akkoord.transfer.jobs import sweep_uploads

    return {"import_uploads": sweep_uploads(dry_run=dry_run)}


def _queued_notices(dry_run: bool) -> dict:
    """Privacy confirmations still queued: ask a worker to send them (a safety
    net for a delivery task that could not be queued)."""
    from akkoord.notices.models import QueuedNotice
    from akkoord.notices.tasks import schedule_delivery

    waiting = QueuedNotice.objects.count()
    if waiting and not dry_run:
        schedule_delivery()
    return {"privacy_confirmations_waiting": waiting}


def run(
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RetentionRun:
    """Apply retention now; with ``dry_run`` only count. Returns the stored report.

    The stored report holds counts only. The returned run also carries, in
    memory, ``contact_ids``: the ids of the contacts erased (or, in a dry run,
    that would be), so that a dry run can be checked against the real one.
    ``progress(done, total)`` is called while contacts are erased.
    """
    now = now or timezone.now()
    report: dict = {}
    report.update(_unconfirmed_signups(now, dry_run))
    report.update(_import_uploads(dry_run))
    report.update(_queued_notices(dry_run))
    report["bounce_reports"] = erase_old_raw(now, dry_run=dry_run)
    expired = expired_contact_ids(now)
    if not dry_run:
        done = 0
        # In batches of ids: one ``IN`` list of every expired id could pass
        # the database's limit on query parameters (SQLite).
        for start in range(0, len(expired), _BATCH):
            for contact in Contact.objects.filter(pk__in=expired[start : start + _BATCH]):
                erase_contact(contact, reason="retention", via="retention")
                done += 1
                if progress is not None:
                    progress(done, len(expired))
    report["contacts_erased"] = len(expired)
    audit_entries, caught_mail = _old_logs(now)
    if dry_run:
        report["audit_entries"] = audit_entries.count()
        report["caught_mail"] = caught_mail.count()
    else:
        report["audit_entries"] = audit_entries.delete()[0]
        report["caught_mail"] = caught_mail.delete()[0]
    logger.info("retention %s: %s", "dry run" if dry_run else "run", report)
    result = RetentionRun.objects.create(started_at=now, dry_run=dry_run, report=report)
    result.contact_ids = expired
    return result
