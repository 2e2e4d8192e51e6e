"""The lawfulness engine: who may be e-mailed, for which purpose, on which basis.

Pure code: no Django, no database, no clock, no I/O. Everything the rules need
is passed in as plain values, so that every rule can be tested exhaustively and
the database query in ``consent.audiences`` can be checked against it.

The rules (DOMAIN §3):

* A *service* mail (invoice, confirmation, privacy confirmation, answer to a
  request) needs no marketing basis; only an address that hard-bounced is
  excluded.
* A *re-permission* mail may go only to people whose consent is recorded but
  unproven (ACM: asking for consent by mail is itself unsolicited mail).
* Marketing goes to one of three audiences. *Customers only* and *customers +
  opt-ins* may carry only offers for products similar to what was bought;
  *opt-ins only* may carry anything.
* Always excluded: suppressed (erased) addresses, hard bounces, complaints,
  people who withdrew consent for the purpose, consents pending confirmation,
  and people who objected to direct marketing (GDPR art. 21).
* A later, explicit consent for the purpose overrides an earlier objection or
  suppression for that purpose (the person asked for it); the soft opt-in never
  does. After a suppression only a double-opted-in consent counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class EventKind(StrEnum):
    GRANTED = "granted"
    CONFIRMED = "confirmed"
    WITHDRAWN = "withdrawn"
    OBJECTED = "objected"
    # Recorded as consent but without proof (an old list): see re-permission.
    UNPROVEN = "unproven"


class ConsentStatus(StrEnum):
    NONE = "none"
    PENDING = "pending"
    GRANTED = "granted"
    UNPROVEN = "unproven"
    WITHDRAWN = "withdrawn"


class MailClass(StrEnum):
    SERVICE = "service"
    MARKETING_SIMILAR = "marketing_similar"
    MARKETING_OTHER = "marketing_other"
    REPERMISSION = "repermission"


class Audience(StrEnum):
    CUSTOMERS = "customers"
    CUSTOMERS_AND_OPTINS = "customers_and_optins"
    OPTINS = "optins"


class Basis(StrEnum):
    CONSENT = "consent"
    CUSTOMER = "customer"
    UNPROVEN_CONSENT = "unproven_consent"
    SERVICE = "service"


class Reason(StrEnum):
    """Why a message is allowed (``OK_*``) or not. Texts: ``consent.explain``."""

    OK_CONSENT = "ok_consent"
    OK_CUSTOMER = "ok_customer"
    OK_UNPROVEN = "ok_unproven"
    OK_SERVICE = "ok_service"
    AUDIENCE_NOT_FOR_CLASS = "audience_not_for_class"
    SUPPRESSED = "suppressed"
    HARD_BOUNCED = "hard_bounced"
    COMPLAINED = "complained"
    WITHDRAWN = "withdrawn"
    PENDING_CONFIRMATION = "pending_confirmation"
    OBJECTED = "objected"
    UNPROVEN_ONLY = "unproven_only"
    NO_CONSENT = "no_consent"
    NOT_CUSTOMER = "not_customer"
    OBJECTION_NOT_OFFERED = "objection_not_offered"
    CUSTOMER_EXPIRED = "customer_expired"
    NOT_UNPROVEN = "not_unproven"


ALLOWING_REASONS = {
    Reason.OK_CONSENT: Basis.CONSENT,
    Reason.OK_CUSTOMER: Basis.CUSTOMER,
    Reason.OK_UNPROVEN: Basis.UNPROVEN_CONSENT,
    Reason.OK_SERVICE: Basis.SERVICE,
}

# Which audiences may carry which kind of marketing (seed 002).
AUDIENCE_CLASSES = {
    Audience.CUSTOMERS: {MailClass.MARKETING_SIMILAR},
    Audience.CUSTOMERS_AND_OPTINS: {MailClass.MARKETING_SIMILAR},
    Audience.OPTINS: {MailClass.MARKETING_SIMILAR, MailClass.MARKETING_OTHER},
}


@dataclass(frozen=True)
class PurposeConsent:
    """The current consent of one contact for one purpose (a replayed ledger)."""

    status: ConsentStatus = ConsentStatus.NONE
    grant_seq: int | None = None
    granted_at: datetime | None = None
    confirmed_at: datetime | None = None
    changed_at: datetime | None = None
    last_seq: int | None = None


@dataclass(frozen=True)
class ContactFacts:
    """Everything the rules need to know about one contact and one purpose."""

    consent: PurposeConsent = PurposeConsent()
    last_purchase_on: date | None = None
    objection_offered_at_sale: bool = False
    objected_at: datetime | None = None
    suppressed_at: datetime | None = None
    hard_bounced: bool = False
    complained: bool = False


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: Reason
    basis: Basis | None = None
    # The grant event (ledger seq) the decision rests on, for a consent basis.
    consent_seq: int | None = None


def apply_event(
    state: PurposeConsent,
    kind: EventKind,
    *,
    seq: int,
    at: datetime,
    needs_confirmation: bool = False,
    confirms_seq: int | None = None,
) -> PurposeConsent:
    """The state of one purpose after one more ledger event.

    Objections are not per purpose; they are folded in by the caller.
    """
    status = state.status
    if kind == EventKind.GRANTED:
        new = ConsentStatus.PENDING if needs_confirmation else ConsentStatus.GRANTED
        return PurposeConsent(new, seq, at, None, at, seq)
    if kind == EventKind.CONFIRMED:
        if status == ConsentStatus.PENDING and confirms_seq in (None, state.grant_seq):
            return PurposeConsent(ConsentStatus.GRANTED, state.grant_seq, at, at, at, seq)
        return _touched(state, seq)
    if kind == EventKind.WITHDRAWN:
        return PurposeConsent(ConsentStatus.WITHDRAWN, None, None, None, at, seq)
    if kind == EventKind.UNPROVEN:
        # An old list must never revive a withdrawal or weaken a real consent.
        if status in (ConsentStatus.NONE, ConsentStatus.UNPROVEN):
            return PurposeConsent(ConsentStatus.UNPROVEN, seq, at, None, at, seq)
        return _touched(state, seq)
    return _touched(state, seq)


def _touched(state: PurposeConsent, seq: int) -> PurposeConsent:
    return PurposeConsent(
        state.status, state.grant_seq, state.granted_at, state.confirmed_at, state.changed_at, seq
    )


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier (clamped to the month's last day)."""
    month_index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def customer_cutoff(today: date, customer_months: int) -> date:
    """Purchases on or after this day still make a customer relationship."""
    return months_before(today, customer_months)


def customer_problem(facts: ContactFacts, cutoff: date) -> Reason | None:
    """Why the soft opt-in does not apply, or None if it does."""
    if facts.last_purchase_on is None:
        return Reason.NOT_CUSTOMER
    if facts.suppressed_at is not None:
        return Reason.SUPPRESSED
    if facts.objected_at is not None:
        return Reason.OBJECTED
    if not facts.objection_offered_at_sale:
        return Reason.OBJECTION_NOT_OFFERED
    if facts.last_purchase_on < cutoff:
        return Reason.CUSTOMER_EXPIRED
    return None


def audience_allows(audience: Audience, mail_class: MailClass) -> bool:
    return mail_class in AUDIENCE_CLASSES[audience]


def decide(
    facts: ContactFacts,
    mail_class: MailClass,
    audience: Audience | None,
    *,
    today: date,
    customer_months: int,
) -> Decision:
    """May this contact receive this message, and on which basis?"""
    if mail_class == MailClass.SERVICE:
        if facts.hard_bounced:
            return Decision(False, Reason.HARD_BOUNCED)
        return _allow(Reason.OK_SERVICE)
    if mail_class != MailClass.REPERMISSION and (
        audience is None or not audience_allows(audience, mail_class)
    ):
        return Decision(False, Reason.AUDIENCE_NOT_FOR_CLASS)

    exclusion = marketing_exclusion(facts)
    if exclusion is not None:
        return Decision(False, exclusion)

    consent = facts.consent
    if mail_class == MailClass.REPERMISSION:
        if consent.status == ConsentStatus.UNPROVEN:
            return _allow(Reason.OK_UNPROVEN, consent.grant_seq)
        return Decision(False, Reason.NOT_UNPROVEN)

    has_consent = consent.status == ConsentStatus.GRANTED
    no_consent_reason = (
        Reason.UNPROVEN_ONLY if consent.status == ConsentStatus.UNPROVEN else Reason.NO_CONSENT
    )
    if audience == Audience.OPTINS:
        if has_consent:
            return _allow(Reason.OK_CONSENT, consent.grant_seq)
        return Decision(False, no_consent_reason)

    problem = customer_problem(facts, customer_cutoff(today, customer_months))
    if audience == Audience.CUSTOMERS:
        return _allow(Reason.OK_CUSTOMER) if problem is None else Decision(False, problem)

    # Customers + opt-ins: consent is the stronger proof, so it is preferred.
    if has_consent:
        return _allow(Reason.OK_CONSENT, consent.grant_seq)
    if problem is None:
        return _allow(Reason.OK_CUSTOMER)
    if facts.last_purchase_on is not None:
        return Decision(False, problem)
    return Decision(False, no_consent_reason)


def marketing_exclusion(facts: ContactFacts) -> Reason | None:
    """The exclusions that apply to every marketing audience, in order."""
    consent = facts.consent
    granted = consent.status == ConsentStatus.GRANTED
    if facts.suppressed_at is not None and not (
        granted and consent.confirmed_at is not None and consent.confirmed_at > facts.suppressed_at
    ):
        return Reason.SUPPRESSED
    if facts.hard_bounced:
        return Reason.HARD_BOUNCED
    if facts.complained:
        return Reason.COMPLAINED
    if consent.status == ConsentStatus.WITHDRAWN:
        return Reason.WITHDRAWN
    if consent.status == ConsentStatus.PENDING:
        return Reason.PENDING_CONFIRMATION
    if facts.objected_at is not None and not (
        granted and consent.granted_at is not None and consent.granted_at > facts.objected_at
    ):
        return Reason.OBJECTED
    return None


def _allow(reason: Reason, consent_seq: int | None = None) -> Decision:
    return Decision(True, reason, ALLOWING_REASONS[reason], consent_seq)
