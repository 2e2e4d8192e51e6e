"""Writing checked import rows: one chunk, one transaction.

Each chunk's new contacts, their consent events (through the ledger's one
writer, ``consent.ledger.append``), purchases, tags, timeline entries and
queued privacy confirmations are written together or not at all; see
``transfer.importer`` for the rules an import follows.
"""

from __future__ import annotations

import time
from collections import defaultdict

from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from akkoord.consent import ledger
from akkoord.consent.ledger import NewEvent
from akkoord.consent.models import Channel, ConsentState, Purpose, Suppression
from akkoord.consent.rules import EventKind
from akkoord.contacts.emails import email_hash
from akkoord.contacts.models import (
    Activity,
    ActivityKind,
    Contact,
    ContactField,
    ContactFieldValue,
    Language,
    ProductCategory,
    Purchase,
    SourceKind,
)
from akkoord.contacts.signals import contacts_registered
from akkoord.lib.bulk import insert_rows, unsaved
from akkoord.lib.db import retry_when_locked
from akkoord.notices.services import queue_notices
from akkoord.segments.models import Tag
from akkoord.transfer import formats
from akkoord.transfer.parsing import ParsedRow
from akkoord.transfer.report import ImportReport

_COUNTS = (
    "created",
    "consent_added_to_existing",
    "existing_unchanged",
    "suppressed_skipped",
    "events",
    "unproven",
    "proven",
    "purchases",
    "purchases_known",
    "tagged",
)


class ChunkWriter:
    """Writes the chunks of one import (file ``label`` in format ``fmt``) and
    counts what it wrote in ``report``."""

    def __init__(self, report: ImportReport, *, label: str, fmt: str, actor: str):
        self.report = report
        self.label = label[:200]
        self.format = fmt
        self.actor = actor[:200]
        self.queued_notices = 0

    def write_chunk(self, rows: list[ParsedRow], *, keep: bool) -> None:
        """Write ``rows`` in one transaction (rolled back unless ``keep``).

        A chunk that finds SQLite busy (another writer past the connection's
        timeout) is tried again as a whole; the report's counts are those of
        the attempt that committed.
        """
        before = {name: getattr(self.report, name) for name in _COUNTS}

        def attempt() -> list[int]:
            for name, value in before.items():
                setattr(self.report, name, value)
            with transaction.atomic():
                new_ids = self._write(rows)
                if keep:
                    self.queued_notices += queue_notices(new_ids, str(SourceKind.IMPORT))
                else:
                    transaction.set_rollback(True)
            return new_ids

        new_ids = retry_when_locked(attempt)
        self.report.rows_written += len(rows) if keep else 0
        if keep and new_ids:
            # Right away, unless a caller's transaction is still open around the import.
            transaction.on_commit(lambda: self._announce(new_ids))

    def _announce(self, new_ids: list[int]) -> None:
        started = time.monotonic()
        contacts_registered.send(Contact, contact_ids=new_ids, channel=str(SourceKind.IMPORT))
        self.report.announce_seconds += round(time.monotonic() - started, 3)

    def _write(self, rows: list[ParsedRow]) -> list[int]:
        """Write one chunk's contacts and events; return the new contacts' ids."""
        by_email = {row.email: row for row in rows}
        hashes = {email: email_hash(email) for email in by_email}
        suppressed = set(
            Suppression.objects.filter(email_hash__in_many=hashes.values()).values_list(
                "email_hash", flat=True
            )
        )
        existing = {
            c.email: c
            for c in Contact.objects.filter(email__in_many=list(by_email)).only(
                "pk", "email", "ledger_key", "objected_at", "source_kind", "source_detail"
            )
        }
        new_rows, pending_for_existing = [], []
        for row in rows:
            if hashes[row.email] in suppressed:
                self.report.suppressed_skipped += 1
                continue
            contact = existing.get(row.email)
            if contact is None:
                new_rows.append(row)
            else:
                pending_for_existing.append((contact, row))
        contacts = self._create_contacts(new_rows, hashes)
        pending: list[NewEvent] = []
        for contact, row in zip(contacts, new_rows, strict=True):
            pending.extend(self._events(contact, row, row.purposes))
        pending.extend(self._events_for_existing(pending_for_existing))
        ledger.append(pending)
        self.report.events += len(pending)
        everyone = [*zip(contacts, new_rows, strict=True), *pending_for_existing]
        self._write_purchases([(contact, row) for contact, row in everyone if row.purchase])
        self._write_tags([(contact, row) for contact, row in everyone if row.tags])
        return [contact.pk for contact in contacts]

    def _write_purchases(self, pairs: list[tuple[Contact, ParsedRow]]) -> None:
        """Record each row's purchase (unless the contact has it already) and
        recompute the customer relationship of the contacts that got one."""
        if not pairs:
            return
        ids = [contact.pk for contact, _row in pairs]
        known = set(
            Purchase.objects.filter(contact_id__in_many=ids).values_list(
                "contact_id", "purchased_on", "description", "category_id", "reference", "amount"
            )
        )
        uncategorised = None
        now = timezone.now()
        purchases, rows = [], []
        for contact, row in pairs:
            data = row.purchase
            category = data.get("category")
            if category is None:
                uncategorised = uncategorised or ProductCategory.uncategorised()
                category = uncategorised
            same = (
                contact.pk,
                data["purchased_on"],
                data["description"],
                category.pk,
                data.get("reference", ""),
                data.get("amount"),
            )
            if same in known:
                self.report.purchases_known += 1
                continue
            known.add(same)
            purchases.append(
                Purchase(
                    contact=contact,
                    purchased_on=data["purchased_on"],
                    description=data["description"],
                    reference=data.get("reference", ""),
                    amount=data.get("amount"),
                    objection_offered=data.get("objection_offered", False),
                    category=category,
                    source_kind=SourceKind.IMPORT,
                    created_at=now,
                )
            )
            rows.append(row)
        insert_rows(Purchase, purchases)
        self.report.purchases += len(purchases)
        insert_rows(
            Activity,
            [
                Activity(
                    contact=purchase.contact,
                    kind=ActivityKind.PURCHASE,
                    occurred_at=now,
                    actor=self.actor,
                    summary=f"purchase on {purchase.purchased_on.isoformat()}",
                    data={
                        "purchase": purchase.pk,
                        "purchased_on": purchase.purchased_on.isoformat(),
                        "description": purchase.description,
                        "category": purchase.category.key,
                        "amount": None if purchase.amount is None else str(purchase.amount),
                        "objection_offered": purchase.objection_offered,
                        "source": SourceKind.IMPORT.value,
                        "detail": self.label,
                        "row": row.number,
                    },
                )
                for purchase, row in zip(purchases, rows, strict=True)
            ],
        )
        # The customer relationship as ``refresh_customer_relationship`` computes it.
        customers = (
            Purchase.objects.filter(contact_id__in_many={p.contact.pk for p in purchases})
            .values("contact_id")
            .annotate(
                first=Min("purchased_on"),
                last=Max("purchased_on"),
                offered=Count("id", filter=Q(objection_offered=True)),
            )
        )
        Contact.objects.bulk_update(
            [
                Contact(
                    pk=c["contact_id"],
                    customer_since=c["first"],
                    last_purchase_on=c["last"],
                    objection_offered_at_sale=c["offered"] > 0,
                )
                for c in customers
            ],
            ["customer_since", "last_purchase_on", "objection_offered_at_sale"],
        )

    def _write_tags(self, pairs: list[tuple[Contact, ParsedRow]]) -> None:
        """Add each row's tags to its contact (creating new tag names), on the timeline."""
        if not pairs:
            return
        names = sorted({name for _contact, row in pairs for name in row.tags})
        Tag.objects.bulk_create([Tag(name=name) for name in names], ignore_conflicts=True)
        tag_ids = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))
        through = Tag.contacts.through
        before: dict[int, set[str]] = defaultdict(set)
        for contact_id, name in through.objects.filter(
            contact_id__in_many=[contact.pk for contact, _row in pairs]
        ).values_list("contact_id", "tag__name"):
            before[contact_id].add(name)
        now = timezone.now()
        links, activities = [], []
        for contact, row in pairs:
            had = before[contact.pk]
            new = [name for name in row.tags if name not in had]
            if not new:
                continue
            links += [through(contact_id=contact.pk, tag_id=tag_ids[name]) for name in new]
            activities.append(
                Activity(
                    contact=contact,
                    kind=ActivityKind.CHANGED,
                    occurred_at=now,
                    actor=self.actor,
                    summary="tags changed",
                    data={
                        "changes": {"tags": [sorted(had), sorted(had | set(new))]},
                        "source": SourceKind.IMPORT.value,
                        "detail": self.label,
                        "row": row.number,
                    },
                )
            )
        through.objects.bulk_create(links)
        insert_rows(Activity, activities)
        self.report.tagged += len(activities)

    def _create_contacts(self, rows: list[ParsedRow], hashes: dict) -> list[Contact]:
        now = timezone.now()
        contacts = [
            unsaved(
                Contact,
                email=row.email,
                email_hash=hashes[row.email],
                first_name=row.data.get("first_name", ""),
                last_name=row.data.get("last_name", ""),
                organisation_name=row.data.get("organisation_name", ""),
                language=row.data.get("language", Language.NL),
                source_kind=SourceKind.IMPORT,
                source_detail=self.label,
                collected_from_person=False,
                created_at=now,
                hard_bounced_at=(row.unsub_time or now) if row.status in formats.BOUNCED else None,
            )
            for row in rows
        ]
        insert_rows(Contact, contacts)
        if contacts and contacts[0].pk is None:  # backends without RETURNING
            pks = dict(
                Contact.objects.filter(email__in_many=[c.email for c in contacts]).values_list(
                    "email", "pk"
                )
            )
            for contact in contacts:
                contact.pk = pks[contact.email]
        self.report.created += len(contacts)
        insert_rows(
            Activity,
            [
                unsaved(
                    Activity,
                    {"contact": contact},
                    contact_id=contact.pk,
                    kind=ActivityKind.CREATED,
                    occurred_at=now,
                    actor=self.actor,
                    summary="registered",
                    data={
                        "source": SourceKind.IMPORT.value,
                        "detail": self.label,
                        "row": row.number,
                    },
                )
                for contact, row in zip(contacts, rows, strict=True)
            ],
        )
        fields = {f.key: f for f in ContactField.objects.filter(is_active=True)}
        insert_rows(
            ContactFieldValue,
            [
                ContactFieldValue(contact=contact, field=fields[key], value=value)
                for contact, row in zip(contacts, rows, strict=True)
                for key, value in row.fields.items()
            ],
        )
        return contacts

    def _events_for_existing(self, pairs) -> list[NewEvent]:
        if not pairs:
            return []
        states = set(
            ConsentState.objects.filter(contact_id__in_many=[c.pk for c, _r in pairs]).values_list(
                "contact_id", "purpose_id"
            )
        )
        pending = []
        for contact, row in pairs:
            purposes = [p for p in row.purposes if (contact.pk, p.pk) not in states]
            if contact.objected_at is not None or not purposes:
                self.report.existing_unchanged += 1
                continue
            self.report.consent_added_to_existing += 1
            pending.extend(self._events(contact, row, purposes))
        return pending

    def _events(self, contact: Contact, row: ParsedRow, purposes: list[Purpose]) -> list[NewEvent]:
        events = []
        optin_time = row.optin_time or row.confirm_time
        common = {
            "channel": Channel.IMPORT.value,
            "channel_ref": self.label,
            "actor": self.actor,
        }
        for purpose in purposes:
            if optin_time is None:
                self.report.unproven += 1
                events.append(
                    NewEvent(
                        contact,
                        purpose,
                        EventKind.UNPROVEN,
                        occurred_at=timezone.now(),
                        proof={"file": self.label, "row": row.number, "format": self.format},
                        **common,
                    )
                )
            else:
                self.report.proven += 1
                proof = {
                    "file": self.label,
                    "row": row.number,
                    "format": self.format,
                    "optin_time": optin_time.isoformat(),
                    "optin_ip": row.optin_ip,
                    "confirm_time": row.confirm_time.isoformat() if row.confirm_time else "",
                    "confirm_ip": row.confirm_ip,
                }
                grant = NewEvent(
                    contact,
                    purpose,
                    EventKind.GRANTED,
                    occurred_at=optin_time,
                    proof=proof,
                    needs_confirmation=purpose.double_opt_in or row.confirm_time is not None,
                    **common,
                )
                events.append(grant)
                if row.confirm_time is not None:
                    events.append(
                        NewEvent(
                            contact,
                            purpose,
                            EventKind.CONFIRMED,
                            occurred_at=row.confirm_time,
                            proof={
                                "file": self.label,
                                "row": row.number,
                                "confirm_time": row.confirm_time.isoformat(),
                                "confirm_ip": row.confirm_ip,
                            },
                            confirms=grant,
                            **common,
                        )
                    )
            if row.status in formats.UNSUBSCRIBED:
                events.append(
                    NewEvent(
                        contact,
                        purpose,
                        EventKind.WITHDRAWN,
                        occurred_at=row.unsub_time or timezone.now(),
                        proof={"file": self.label, "row": row.number, "status": row.status},
                        **common,
                    )
                )
        return events
