"""The lawfulness engine: who may be e-mailed, for which purpose, on which basis.

Pure code: no Django, no database, no clock, no I/O. Everything the rules need
is passed in as plain values, so that every rule can be tested exhaustively and
the database query in ``consent.audiences`` can be checked against it.

The ledger folds into two kinds of facts, both in the order events *happened*
(``occurred_at``, ties by ledger ``seq``), never in the order they arrived, so
that an event reported late never overrules what happened after it:

* per purpose (``fold_purpose``): granted (pending while a double opt-in grant
  waits for its confirmation), withdrawn, unproven (an old list, which never
  revives a withdrawal nor weakens a real consent). A spam complaint withdraws
  every purpose at its time; an expired unconfirmed grant counts as if it never
  happened.
* per person (``fold_standing``): an objection to direct marketing in force
  (until the person lifts it), whether the person ever objected, and the time
  of the last complaint.

The rules:

* A *service* mail (invoice, confirmation, privacy confirmation, answer to a
  request) needs no marketing basis; only an address that hard-bounced is
  excluded.
* A *re-permission* mail may go only to people whose consent is recorded but
  unproven (asking for consent by mail is itself unsolicited mail).
* Marketing goes to one of three audiences. *Customers only* and *customers +
  opt-ins* may carry only offers for products similar to what was bought;
  *opt-ins only* may carry anything.
* The soft opt-in rests on a purchase: when a campaign names its product
  categories (with the categories similar to them), only a purchase in one of
  those categories within the customer period carries it; a customer who bought
  only unrelated products is not mailed on it. The decision names that purchase.
* Always excluded: suppressed (erased) addresses, hard bounces, complaints,
  people who withdrew consent for the purpose, consents pending confirmation,
  and people whose objection to direct marketing (GDPR art. 21) is in force.
* Only a consent given *and* confirmed by double opt-in after an objection, a
  complaint or a suppression allows mail again, for that purpose and on the
  consent basis only. The soft opt-in never comes back after any of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum


class EventKind(StrEnum):
    GRANTED = "granted"
    CONFIRMED = "confirmed"
    WITHDRAWN = "withdrawn"
    OBJECTED = "objected"
    # Recorded as consent but without proof (an old list): see re-permission.
    UNPROVEN = "unproven"
    # The person's own act in the customer centre that ends their objection.
    OBJECTION_LIFTED = "objection_lifted"
    # A spam complaint (feedback loop or sending service): withdraws every purpose.
    COMPLAINED = "complained"
    # An unconfirmed grant reached its expiry; ``confirms_seq`` names the grant.
    EXPIRED = "expired"


# Events about the person as a whole, not one purpose.
PERSON_EVENTS = frozenset({EventKind.OBJECTED, EventKind.OBJECTION_LIFTED, EventKind.COMPLAINED})


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
    BOUGHT_UNRELATED = "bought_unrelated"


ALLOWING_REASONS = {
    Reason.OK_CONSENT: Basis.CONSENT,
    Reason.OK_CUSTOMER: Basis.CUSTOMER,
    Reason.OK_UNPROVEN: Basis.UNPROVEN_CONSENT,
    Reason.OK_SERVICE: Basis.SERVICE,
}

# Which audiences may carry which kind of marketing.
AUDIENCE_CLASSES = {
    Audience.CUSTOMERS: {MailClass.MARKETING_SIMILAR},
    Audience.CUSTOMERS_AND_OPTINS: {MailClass.MARKETING_SIMILAR},
    Audience.OPTINS: {MailClass.MARKETING_SIMILAR, MailClass.MARKETING_OTHER},
}


@dataclass(frozen=True)
class PurposeConsent:
    """The current consent of one contact for one purpose (a replayed ledger).

    ``granted_at`` is when the grant in force happened; ``confirmed_at`` is set
    only when that grant needed and got a double opt-in confirmation.
    ``last_seq`` and ``last_at`` name the last event of the fold (in time order).
    """

    status: ConsentStatus = ConsentStatus.NONE
    grant_seq: int | None = None
    granted_at: datetime | None = None
    confirmed_at: datetime | None = None
    changed_at: datetime | None = None
    last_seq: int | None = None
    last_at: datetime | None = None

    def double_opted_in_after(self, moment: datetime) -> bool:
        """Granted and confirmed by double opt-in, both after ``moment``."""
        return (
            self.status == ConsentStatus.GRANTED
            and self.confirmed_at is not None
            and self.granted_at is not None
            and self.granted_at > moment
            and self.confirmed_at > moment
        )


@dataclass(frozen=True)
class Standing:
    """What the ledger says about the person as a whole (not one purpose)."""

    # The objection in force (its time), or None if there is none (or it was lifted).
    objected_at: datetime | None = None
    # The person objected at some time, lifted or not: the soft opt-in never returns.
    has_objected: bool = False
    # The last spam complaint.
    complained_at: datetime | None = None


@dataclass(frozen=True)
class LedgerEntry:
    """One ledger event as the folds see it."""

    seq: int
    kind: EventKind
    at: datetime
    needs_confirmation: bool = False
    confirms_seq: int | None = None


@dataclass(frozen=True)
class PurchaseFact:
    """One sale, as the soft opt-in sees it: when, and in which product category (its key)."""

    purchase_id: int
    purchased_on: date
    category: str


@dataclass(frozen=True)
class ContactFacts:
    """Everything the rules need to know about one contact and one purpose."""

    consent: PurposeConsent = PurposeConsent()
    last_purchase_on: date | None = None
    objection_offered_at_sale: bool = False
    # The objection in force (see ``Standing``).
    objected_at: datetime | None = None
    has_objected: bool = False
    suppressed_at: datetime | None = None
    hard_bounced: bool = False
    complained_at: datetime | None = None
    # The sales (any order); ``last_purchase_on`` is the latest of their dates.
    purchases: tuple[PurchaseFact, ...] = ()


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: Reason
    basis: Basis | None = None
    # The grant event (ledger seq) the decision rests on, for a consent basis.
    consent_seq: int | None = None
    # The purchase the decision rests on, for the customer basis.
    purchase_id: int | None = None


def apply_event(
    state: PurposeConsent,
    kind: EventKind,
    *,
    seq: int,
    at: datetime,
    needs_confirmation: bool = False,
    confirms_seq: int | None = None,
) -> PurposeConsent:
    """The state of one purpose after one more event (the next one in time order).

    Objections and their lifting are not per purpose: see ``fold_standing``.
    An expiry is handled by ``fold_purpose`` (it removes its grant from the fold).
    """
    status = state.status
    if kind == EventKind.GRANTED:
        new = ConsentStatus.PENDING if needs_confirmation else ConsentStatus.GRANTED
        return PurposeConsent(new, seq, at, None, at, seq, at)
    if kind == EventKind.CONFIRMED:
        if status == ConsentStatus.PENDING and confirms_seq in (None, state.grant_seq):
            granted = ConsentStatus.GRANTED
            return PurposeConsent(granted, state.grant_seq, state.granted_at, at, at, seq, at)
        return _touched(state, seq, at)
    if kind in (EventKind.WITHDRAWN, EventKind.COMPLAINED):
        return PurposeConsent(ConsentStatus.WITHDRAWN, None, None, None, at, seq, at)
    if kind == EventKind.UNPROVEN:
        # An old list must never revive a withdrawal or weaken a real consent.
        if status in (ConsentStatus.NONE, ConsentStatus.UNPROVEN):
            return PurposeConsent(ConsentStatus.UNPROVEN, seq, at, None, at, seq, at)
        return _touched(state, seq, at)
    return _touched(state, seq, at)


def _touched(state: PurposeConsent, seq: int, at: datetime) -> PurposeConsent:
    return replace(state, last_seq=seq, last_at=at)


def time_order(entry: LedgerEntry) -> tuple[datetime, int]:
    """The order in which events count: when they happened, ties by ledger order."""
    return (entry.at, entry.seq)


def fold_purpose(
    entries: Iterable[LedgerEntry], start: PurposeConsent | None = None
) -> PurposeConsent:
    """The state of one purpose from its events and the person's complaints.

    ``entries`` may come in any order; person-wide events other than
    complaints are ignored. A grant named by an ``expired`` event is dropped.
    ``start`` continues an earlier fold, for entries that all happened after
    its last event.
    """
    entries = [e for e in entries if e.kind not in PERSON_EVENTS or e.kind == EventKind.COMPLAINED]
    expired = {e.confirms_seq for e in entries if e.kind == EventKind.EXPIRED}
    state = start or PurposeConsent()
    for entry in sorted(entries, key=time_order):
        if entry.kind == EventKind.GRANTED and entry.seq in expired:
            continue
        state = apply_event(
            state,
            entry.kind,
            seq=entry.seq,
            at=entry.at,
            needs_confirmation=entry.needs_confirmation,
            confirms_seq=entry.confirms_seq,
        )
    return state


def fold_standing(entries: Iterable[LedgerEntry]) -> Standing:
    """Objection and complaint facts from a person's events (any order)."""
    objected_at, has_objected, complained_at = None, False, None
    for entry in sorted(entries, key=time_order):
        if entry.kind == EventKind.OBJECTED:
            objected_at, has_objected = entry.at, True
        elif entry.kind == EventKind.OBJECTION_LIFTED:
            objected_at = None
        elif entry.kind == EventKind.COMPLAINED:
            complained_at = entry.at
    return Standing(objected_at, has_objected, complained_at)


def is_late(new: LedgerEntry, recorded: Iterable[LedgerEntry]) -> bool:
    """Whether an event happened before one already recorded (so it overrules nothing after it)."""
    return any(time_order(entry) > time_order(new) for entry in recorded)


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


def carrying_purchase(
    facts: ContactFacts, cutoff: date, similar_categories: frozenset[str] | None
) -> PurchaseFact | None:
    """The purchase the soft opt-in rests on: the latest one on or after ``cutoff``
    in one of ``similar_categories`` (any category when None); ties by the higher id."""
    candidates = [
        purchase
        for purchase in facts.purchases
        if purchase.purchased_on >= cutoff
        and (similar_categories is None or purchase.category in similar_categories)
    ]
    return max(candidates, key=lambda p: (p.purchased_on, p.purchase_id), default=None)


def customer_problem(
    facts: ContactFacts, cutoff: date, similar_categories: frozenset[str] | None = None
) -> Reason | None:
    """Why the soft opt-in does not apply, or None if it does.

    ``similar_categories``: the campaign's categories and those similar to them;
    None when the campaign names none (then any purchase in the period counts).
    """
    if facts.last_purchase_on is None:
        return Reason.NOT_CUSTOMER
    if facts.suppressed_at is not None:
        return Reason.SUPPRESSED
    if facts.has_objected or facts.objected_at is not None:
        return Reason.OBJECTED
    if facts.complained_at is not None:
        return Reason.COMPLAINED
    if not facts.objection_offered_at_sale:
        return Reason.OBJECTION_NOT_OFFERED
    if facts.last_purchase_on < cutoff:
        return Reason.CUSTOMER_EXPIRED
    if similar_categories is not None and (
        carrying_purchase(facts, cutoff, similar_categories) is None
    ):
        return Reason.BOUGHT_UNRELATED
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
    similar_categories: frozenset[str] | None = None,
) -> Decision:
    """May this contact receive this message, and on which basis?

    ``similar_categories`` (category keys) narrows the soft opt-in to purchases
    in those categories; see ``customer_problem``.
    """
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

    cutoff = customer_cutoff(today, customer_months)
    problem = customer_problem(facts, cutoff, similar_categories)
    if audience == Audience.CUSTOMERS:
        if problem is None:
            return _allow_customer(facts, cutoff, similar_categories)
        return Decision(False, problem)

    # Customers + opt-ins: consent is the stronger proof, so it is preferred.
    if has_consent:
        return _allow(Reason.OK_CONSENT, consent.grant_seq)
    if problem is None:
        return _allow_customer(facts, cutoff, similar_categories)
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
    if facts.complained_at is not None and not consent.double_opted_in_after(facts.complained_at):
        return Reason.COMPLAINED
    if consent.status == ConsentStatus.WITHDRAWN:
        return Reason.WITHDRAWN
    if consent.status == ConsentStatus.PENDING:
        return Reason.PENDING_CONFIRMATION
    if facts.objected_at is not None and not consent.double_opted_in_after(facts.objected_at):
        return Reason.OBJECTED
    return None


def _allow(reason: Reason, consent_seq: int | None = None) -> Decision:
    return Decision(True, reason, ALLOWING_REASONS[reason], consent_seq)


def _allow_customer(
    facts: ContactFacts, cutoff: date, similar_categories: frozenset[str] | None
) -> Decision:
    purchase = carrying_purchase(facts, cutoff, similar_categories)
    purchase_id = purchase.purchase_id if purchase else None
    return Decision(True, Reason.OK_CUSTOMER, Basis.CUSTOMER, purchase_id=purchase_id)
