"""The person's own choices in the centre: subscribe, unsubscribe, withdraw all, object,
lift their objection.

Each choice is one consent-ledger event (written through ``consent.ledger``, the only writer),
effective at once: the derived state that the sending pipeline reads is updated
in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from akkoord.consent.ledger import current_consent, record_event
from akkoord.consent.models import Channel, ConsentEvent, Purpose, Suppression
from akkoord.consent.rules import ConsentStatus, EventKind
from akkoord.contacts.models import Contact
from akkoord.organisation.models import Organisation

ACTOR = "the person (customer centre)"


@dataclass(frozen=True)
class Visit:
    """What the request tells about the person's action: the proof of it."""

    ip: str
    user_agent: str
    language: str


def privacy_statement() -> tuple[str, str]:
    """(version, url) of the privacy statement linked from the centre.

    The accountability app publishes the statement; until it has (or where it is
    not installed) the organisation's own URL is used.
    """
    try:
        from akkoord.accountability.statement import (
            current_statement_url,
            current_statement_version,
        )
    except ImportError:
        version, url = "", ""
    else:
        version, url = current_statement_version(), current_statement_url()
    url = url or Organisation.current().privacy_statement_url
    return version, url or settings.AKKOORD_BASE_URL + "/privacy"


def choosable_purposes(contact: Contact) -> list[Purpose]:
    """Active marketing purposes, plus any other purpose the person has a state for."""
    own = list(contact.consent_states.values_list("purpose_id", flat=True))
    return list(
        Purpose.objects.filter(Q(is_marketing=True) | Q(pk__in=own), is_active=True).order_by(
            "position", "key"
        )
    )


def _proof(visit: Visit, **extra) -> dict:
    version, url = privacy_statement()
    return {
        "ip": visit.ip,
        "user_agent": visit.user_agent[:500],
        "privacy_statement_url": url,
        **({"privacy_statement_version": version} if version else {}),
        **extra,
    }


def subscribe(contact: Contact, purpose: Purpose, visit: Visit) -> list[ConsentEvent]:
    """Give consent for ``purpose`` from the centre, with proof.

    Why this counts as confirmed: the person reached the centre through a
    personal link that was sent to their own address (the privacy confirmation
    or a "send me a new link" mail) and is valid for a limited time. Following
    it proves control of the mailbox, which is what a double opt-in proves.
    So the grant needs no further confirmation mail. Where the purpose asks for
    a double opt-in, or the address is on the suppression list, or the person's
    objection is in force or they complained (which only a double-opted-in
    consent given after it may lift), the grant is recorded as
    needing confirmation and the confirmation by the link is recorded at once,
    so the ledger shows a confirmed consent with its own proof.
    """
    state = current_consent(contact, purpose)
    blocked_since = blocking_since(contact)
    if state.status == ConsentStatus.GRANTED and not (
        blocked_since is not None and not state.double_opted_in_after(blocked_since)
    ):
        return []
    language = visit.language if visit.language in ("nl", "en") else contact.language
    version, _url = privacy_statement()
    suppressed = Suppression.objects.filter(email_hash=contact.email_hash).exists()
    confirm = purpose.double_opt_in or suppressed or blocked_since is not None
    with transaction.atomic():
        grant = record_event(
            contact,
            purpose,
            EventKind.GRANTED,
            channel=Channel.CENTRE,
            proof=_proof(visit, text=purpose.consent_text(language), language=language),
            needs_confirmation=confirm,
            privacy_statement_version=version,
            actor=ACTOR,
        )
        if not confirm:
            return [grant]
        confirmation = record_event(
            contact,
            purpose,
            EventKind.CONFIRMED,
            channel=Channel.CENTRE,
            confirms_seq=grant.seq,
            proof=_proof(
                visit,
                how="personal customer-centre link sent to the person's own address",
            ),
            privacy_statement_version=version,
            actor=ACTOR,
        )
    return [grant, confirmation]


def blocking_since(contact: Contact):
    """The latest objection in force or complaint: only a double opt-in after it counts."""
    contact.refresh_from_db(fields=["objected_at", "complained_at"])
    moments = [m for m in (contact.objected_at, contact.complained_at) if m is not None]
    return max(moments, default=None)


def unsubscribe(contact: Contact, purpose: Purpose, visit: Visit) -> ConsentEvent | None:
    """Withdraw consent for one purpose (also stops the soft opt-in for it)."""
    if current_consent(contact, purpose).status == ConsentStatus.WITHDRAWN:
        return None
    return record_event(
        contact,
        purpose,
        EventKind.WITHDRAWN,
        channel=Channel.CENTRE,
        proof=_proof(visit),
        actor=ACTOR,
    )


_HELD = {ConsentStatus.GRANTED, ConsentStatus.PENDING, ConsentStatus.UNPROVEN}


def withdraw_all(contact: Contact, visit: Visit) -> list[ConsentEvent]:
    """Withdraw every consent the person has given (or that is recorded for them)."""
    events = []
    with transaction.atomic():
        for state in contact.consent_states.select_related("purpose"):
            if ConsentStatus(state.status) in _HELD:
                events.append(
                    record_event(
                        contact,
                        state.purpose,
                        EventKind.WITHDRAWN,
                        channel=Channel.CENTRE,
                        proof=_proof(visit, how="withdraw all consent"),
                        actor=ACTOR,
                    )
                )
    return events


def object_to_marketing(contact: Contact, visit: Visit) -> ConsentEvent:
    """Object to all direct marketing (GDPR art. 21(2)): absolute, no reason asked.

    Recorded even when the person objected before: a consent given after an
    earlier objection overrides it for that purpose, and a new objection must
    override that consent in turn.
    """
    return record_event(
        contact,
        None,
        EventKind.OBJECTED,
        channel=Channel.CENTRE,
        proof=_proof(visit),
        actor=ACTOR,
    )


def lift_objection(contact: Contact, visit: Visit) -> ConsentEvent | None:
    """End the person's objection to direct marketing: only they can, and only here.

    Consents still in force count again; the customer relationship (soft
    opt-in) does not come back.
    """
    contact.refresh_from_db(fields=["objected_at"])
    if contact.objected_at is None:
        return None
    return record_event(
        contact,
        None,
        EventKind.OBJECTION_LIFTED,
        channel=Channel.CENTRE,
        proof=_proof(visit),
        actor=ACTOR,
    )
