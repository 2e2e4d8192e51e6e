"""Who may be mailed, whatever order the consent events arrive in.

The expected outcome comes from an oracle written from the written rules of
the product (the domain description and the team's decisions on the edges),
not from ``consent.rules``: each rule below quotes the sentence it implements.

Hypothesis generates contacts with full event histories: grants with and
without double opt-in, confirmations, withdrawals, old-list ("unproven")
consents, expiries of unconfirmed grants, objections and their lifting in the
customer centre, spam complaints, all dated from a small pool of instants (so
equal timestamps occur) and arriving in random order; plus purchases around the
customer cut-off, suppression and hard bounces. Every event is written through
the real ledger writer in arrival order. The oracle's answer is then compared
with (a) the engine's answer for one contact (``facts_for`` + ``decide``, what
the may-I-mail endpoint asks), (b) the audience query campaigns use, and (c)
the recipients of real campaigns sent through a real SMTP server. Each
population also checks that the derived state equals the ledger's replay and
that the hash chain verifies. Runs on whichever database the suite runs on.
"""

from __future__ import annotations

import calendar
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from akkoord.api.services import decide as may_mail
from akkoord.campaigns.audience import CampaignNotReady, freeze
from akkoord.campaigns.messenger import SmtpMessenger
from akkoord.campaigns.models import Delivery
from akkoord.campaigns.pipeline import run_worker
from akkoord.campaigns.tests import conftest as campaign_fixtures
from akkoord.consent.audiences import facts_for, lawful_recipients
from akkoord.consent.ledger import (
    LedgerError,
    rebuild_state,
    record_complaint,
    record_event,
    verify_ledger,
)
from akkoord.consent.models import ConsentEvent, ConsentState, Suppression
from akkoord.consent.rules import Audience, MailClass, decide
from akkoord.contacts.models import Activity, Contact
from akkoord.contacts.services import record_purchase, register_contact
from akkoord.organisation.models import Organisation

# The campaign tests' fixtures (a DKIM-signing domain, a template, a real SMTP
# server, a campaign factory), made visible to this module's tests.
sending_domain = campaign_fixtures.sending_domain
template = campaign_fixtures.template
smtp_sink = campaign_fixtures.smtp_sink
repermission_template = campaign_fixtures.repermission_template
make_campaign = campaign_fixtures.make_campaign

# --- the oracle ---------------------------------------------------------------

CAMPAIGN = "P"  # the purpose the mail is about
OTHER = "Q"  # another purpose: its events must never change the answer for P

SERVICE = ("service", None)
REPERMISSION = ("repermission", None)
SIMILAR_CUSTOMERS = ("marketing_similar", "customers")
SIMILAR_BOTH = ("marketing_similar", "customers_and_optins")
OTHER_OPTINS = ("marketing_other", "optins")
OTHER_CUSTOMERS = ("marketing_other", "customers")
# Not compared: (similar, opt-ins only) and (other, customers + opt-ins). The
# audience table pairs opt-ins-only with "anything else" and customers +
# opt-ins with "similar products" without saying whether the other pairing is
# refused or narrowed, so no expectation can be derived for them.
COMBINATIONS = [
    SERVICE,
    REPERMISSION,
    SIMILAR_CUSTOMERS,
    SIMILAR_BOTH,
    OTHER_OPTINS,
    OTHER_CUSTOMERS,
]


@dataclass(frozen=True)
class Ev:
    """One consent event as the test wrote it; ``arrival`` is its ledger seq (arrival order)."""

    arrival: int
    kind: str
    purpose: str | None
    at: datetime
    needs_confirmation: bool = False
    refers_to: int | None = None  # seq of the grant it confirms or expires


@dataclass(frozen=True)
class Person:
    events: tuple[Ev, ...]
    last_purchase_on: date | None
    objection_offered_at_sale: bool
    suppressed_at: datetime | None
    hard_bounced: bool


@dataclass(frozen=True)
class Fold:
    status: str  # none, pending, granted, unproven, withdrawn
    grant: Ev | None = None
    confirmation: Ev | None = None


@dataclass(frozen=True)
class Expected:
    bases: frozenset[str]  # every basis the rules allow; empty means not allowed
    grant_arrival: int | None  # the consent event the consent basis rests on
    hits: tuple[str, ...] = ()  # which rules decided (to prove the generator reaches them)

    @property
    def allowed(self) -> bool:
        return bool(self.bases)


def in_time_order(events):
    # "the effective state per person and purpose follows the time they
    # happened (occurred_at; ties by ledger order)"
    return sorted(events, key=lambda e: (e.at, e.arrival))


def fold(events, purpose) -> Fold:
    """The effective consent for one purpose.

    "Per contact and purpose, the effective state is the fold of that purpose's
    events sorted by (occurred_at, seq)"; "complained -> acts as withdrawn for
    every purpose at its time".
    """
    mine = [e for e in events if e.purpose == purpose or e.kind == "complained"]
    # "expired -> the grant it names is dropped from the fold"; "That grant then
    # counts as if it never happened."
    dropped = {e.refers_to for e in mine if e.kind == "expired"}
    state = Fold("none")
    for event in in_time_order(mine):
        if event.kind == "granted" and event.arrival not in dropped:
            # "granted -> pending if it needs confirmation (double opt-in), else granted"
            state = Fold("pending" if event.needs_confirmation else "granted", event)
        elif event.kind == "confirmed":
            # "confirmed -> granted, only if the state is pending and it confirms
            # that pending grant"
            if state.status == "pending" and event.refers_to == state.grant.arrival:
                state = Fold("granted", state.grant, event)
        elif event.kind in ("withdrawn", "complained"):
            # "withdrawn -> withdrawn"
            state = Fold("withdrawn")
        elif event.kind == "unproven" and state.status in ("none", "unproven"):
            # "unproven -> unproven only when the state is none or unproven (an old
            # list never revives a withdrawal nor weakens a real consent)"
            state = Fold("unproven")
    return state


def objection_in_force(events) -> datetime | None:
    """When the objection in force was made, or None.

    "An objection is in force from an objected event until a later (by
    occurred_at, seq) objection_lifted event."
    """
    marks = in_time_order(e for e in events if e.kind in ("objected", "objection_lifted"))
    if not marks or marks[-1].kind != "objected":
        return None
    return max(e.at for e in marks if e.kind == "objected")


def confirmed_by_double_opt_in_after(state: Fold, moment: datetime) -> bool:
    # "a consent given AND confirmed by double opt-in after the objection (the
    # grant needed confirmation, and both the grant's and the confirmation's
    # occurred_at are after the objection's occurred_at)"
    return (
        state.status == "granted"
        and state.grant.needs_confirmation
        and state.confirmation is not None
        and state.grant.at > moment
        and state.confirmation.at > moment
    )


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier, clamped to the end of a shorter month."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def expected(person: Person, mail_class: str, audience, today: date, months: int) -> Expected:
    hits: list[str] = []
    events = person.events
    if person.hard_bounced:
        # "Hard bounce: excluded from everything, service mail included."
        return Expected(frozenset(), None, ("hard_bounced",))
    if mail_class == "service":
        # Service mail is "sent to one person because of something that person
        # did or is owed": objections, complaints and suppression concern
        # marketing ("Objection ... blocks every marketing mail").
        return Expected(frozenset({"service"}), None, ("service",))

    state = fold(events, CAMPAIGN)
    hits += _fold_hits(events, state)
    objected_at = objection_in_force(events)
    ever_objected = any(e.kind == "objected" for e in events)
    complaints = [e.at for e in events if e.kind == "complained"]

    if state.status == "withdrawn":
        # Always excluded: contacts "who unsubscribed from that purpose"
        # (complaints "count as a withdrawal of every marketing purpose").
        return Expected(frozenset(), None, (*hits, "withdrawn"))
    if state.status == "pending":
        # Always excluded: contacts "whose consent is pending confirmation".
        return Expected(frozenset(), None, (*hits, "pending"))

    if mail_class == "repermission":
        # "An unproven consent is a basis of its own: it allows the
        # re-permission mail and nothing else."
        if state.status != "unproven":
            return Expected(frozenset(), None, (*hits, "repermission_needs_unproven"))
        if objected_at is not None:
            # While in force the objection "blocks every marketing mail on every
            # basis (and the re-permission mail)".
            return Expected(frozenset(), None, (*hits, "objection_blocks_repermission"))
        if person.suppressed_at is not None:
            # "Suppression ...: only a consent confirmed by double opt-in after
            # the suppression counts"
            return Expected(frozenset(), None, (*hits, "suppressed"))
        return Expected(frozenset({"unproven_consent"}), None, (*hits, "repermission_ok"))

    consent = state.status == "granted"
    if consent and objected_at is not None:
        # Objection in force: only a consent given and confirmed by double opt-in
        # after it allows mail "for that purpose on the consent basis".
        consent = confirmed_by_double_opt_in_after(state, objected_at)
        hits.append("consent_after_objection" if consent else "objection_blocks_consent")
    if consent and complaints:
        # "Excluded from all marketing, reason complained, unless, for a purpose,
        # a consent was given and confirmed by double opt-in after the complaint"
        consent = confirmed_by_double_opt_in_after(state, max(complaints))
        hits.append("consent_after_complaint" if consent else "complaint_blocks_consent")
    if consent and person.suppressed_at is not None:
        # "only a consent confirmed by double opt-in after the suppression counts"
        consent = (
            state.grant.needs_confirmation
            and state.confirmation is not None
            and state.confirmation.at > person.suppressed_at
        )
        hits.append("consent_after_suppression" if consent else "suppression_blocks_consent")
        if consent and state.grant.at <= person.suppressed_at:
            # Given before the suppression, confirmed by the person after it.
            hits.append("confirmed_after_suppression")
    if consent and objected_at is None and ever_objected:
        # "After objection_lifted, consents in force ... count again as usual."
        hits.append("consent_after_lift")

    customer, why = _soft_opt_in(person, today, months, ever_objected, complaints)
    hits.append(why)

    bases = set()
    if audience in ("customers_and_optins", "optins") and consent:
        bases.add("consent")
    # "customer relationship (soft opt-in) ... Only valid for similar products."
    if audience in ("customers", "customers_and_optins") and customer:
        if mail_class == "marketing_similar":
            bases.add("customer")
        else:
            hits.append("soft_opt_in_not_for_other_products")
    if consent and audience == "customers":
        # customers only: "contacts with a customer relationship"
        hits.append("consent_not_enough_for_customers_only")
    grant = state.grant.arrival if "consent" in bases else None
    return Expected(frozenset(bases), grant, tuple(hits))


def _soft_opt_in(person, today, months, ever_objected, complaints):
    """Whether the customer relationship is a basis, and the rule that decided.

    "the contact is an existing customer (data obtained in the context of a
    sale), was offered the chance to object at that time, and has not objected
    or unsubscribed since." The pending and withdrawn states were excluded
    before this is asked.
    """
    if person.last_purchase_on is None:
        return False, "not_customer"
    if person.last_purchase_on < months_before(today, months):
        # "How long after the last purchase a customer still counts is an
        # organisation setting": purchases on or after the cut-off count.
        return False, "customer_expired"
    if not person.objection_offered_at_sale:
        return False, "objection_not_offered"
    if ever_objected:
        # "The soft opt-in never comes back after an objection."
        return False, "soft_opt_in_lost_to_objection"
    if complaints:
        # "The soft opt-in never comes back after a complaint."
        return False, "soft_opt_in_lost_to_complaint"
    if person.suppressed_at is not None:
        # Suppression: "soft opt-in never".
        return False, "soft_opt_in_lost_to_suppression"
    return True, "customer_ok"


def _fold_hits(events, state: Fold) -> list[str]:
    """Name the time-order rules this history exercises."""
    hits = []
    mine = [e for e in events if e.purpose == CAMPAIGN]
    for event in mine:
        earlier_but_later_dated = [o for o in mine if o.arrival < event.arrival and o.at > event.at]
        if earlier_but_later_dated:
            hits.append("arrived_late")
        # "A late-reported event never overrules what happened after it: a
        # grant dated before a withdrawal stays withdrawn."
        if (
            event.kind == "granted"
            and state.status == "withdrawn"
            and any(o.kind == "withdrawn" for o in earlier_but_later_dated)
        ):
            hits.append("late_grant_stays_withdrawn")
    times = [e.at for e in mine]
    if len(times) != len(set(times)):
        hits.append("equal_timestamps")
    if any(e.kind == "expired" for e in mine):
        hits.append("expired_grant_dropped")
    if state.status in ("withdrawn", "granted") and any(e.kind == "unproven" for e in mine):
        hits.append("unproven_never_revives_or_weakens")
    return hits


# --- generating histories -------------------------------------------------------

# A small pool of offsets before "now", oldest first (a higher index is a later
# time), so that equal timestamps are common.
OFFSETS = sorted(
    (
        timedelta(days=days, microseconds=micro)
        for days in (400, 200, 30, 2)
        for micro in (0, 250_000)
    ),
    reverse=True,
)
# Each person's history uses a few of these kinds only, so that rare
# combinations (an old-list consent under an objection, a re-grant after a
# complaint) are as likely as the common ones. Grants and confirmations weigh
# more: most rules are about what happens after them.
KINDS = (
    "granted",
    "confirmed",
    "withdrawn",
    "objected",
    "objection_lifted",
    "complained",
    "unproven",
    "expired",
)
WEIGHT = {"granted": 3, "confirmed": 3}
PURCHASES = ["none", "long_ago", "day_before_cutoff", "cutoff", "day_after_cutoff", "today"]


# Small stories that the rules single out (a blocker followed by a grant
# confirmed by double opt-in, an old-list consent under an objection, a grant
# arriving after a withdrawal, ...), placed before or after the random part of
# a history; their times usually follow the story, but not always, so that
# "after" holds in some draws and not in others.
MOTIFS = {
    "none": [],
    "objection_then_double_opt_in": ["objected", "granted_doi", "confirmed"],
    "complaint_then_double_opt_in": ["complained", "granted_doi", "confirmed"],
    "complaint_then_grant": ["complained", "granted"],
    "objection_then_grant": ["objected", "granted"],
    "old_list": ["unproven"],
    "old_list_then_objection": ["unproven", "objected"],
    "objection_lifted_then_consent": ["objected", "objection_lifted", "granted"],
    "withdrawal_then_backdated_grant": ["withdrawn", "granted"],
    "old_list_suppressed": ["suppressed", "unproven"],
    "suppression_then_double_opt_in": ["suppressed", "granted_doi", "confirmed"],
}

BACKDATED = {"withdrawal_then_backdated_grant"}


@st.composite
def histories(draw):
    """Steps in arrival order; confirmations and expiries name an earlier grant."""
    steps: list[dict] = []
    grants: dict[int, dict] = {}  # arrival -> purpose, double opt-in, already used
    name = draw(st.sampled_from(sorted(MOTIFS)))
    motif = MOTIFS[name]
    # Mostly distinct times in the story's own order; sometimes equal times or
    # any order (the strict "after" edge).
    if draw(st.integers(0, 2)):
        motif_offsets = sorted(
            draw(st.permutations(range(len(OFFSETS))))[:3],
            # A back-dated story: what arrives last happened first.
            reverse=name in BACKDATED,
        )
    else:
        motif_offsets = draw(st.lists(st.integers(0, len(OFFSETS) - 1), min_size=3, max_size=3))
    chosen = draw(st.sets(st.sampled_from(KINDS), min_size=1, max_size=4))
    pool = [kind for kind in KINDS if kind in chosen for _ in range(WEIGHT.get(kind, 1))]
    # Fewer random steps around a story, so that they seldom undo it.
    length = draw(st.integers(0, 2 if motif else 5))
    randoms = [draw(st.sampled_from(pool)) for _ in range(length)]
    timed = [(kind, offset) for kind, offset in zip(motif, motif_offsets, strict=False)]
    untimed = [(kind, None) for kind in randoms]
    for kind, offset in timed + untimed if draw(st.booleans()) else untimed + timed:
        steps.append(_step(draw, kind, len(steps), grants, offset))
    return steps


def _step(draw, kind: str, arrival: int, grants: dict, motif_offset: int | None) -> dict:
    """One step; a motif's step has its time given and is about the campaign's purpose."""
    offset = draw(st.integers(0, len(OFFSETS) - 1)) if motif_offset is None else motif_offset
    if kind == "suppressed":  # not a ledger event: the address goes on the suppression list
        return {"kind": kind, "purpose": None, "offset": offset}
    purpose = draw(st.sampled_from([CAMPAIGN] * 6 + [OTHER])) if motif_offset is None else CAMPAIGN
    step = {"kind": kind, "purpose": purpose, "offset": offset}
    if kind in ("confirmed", "expired"):
        open_grants = [
            a for a, g in grants.items() if g["double_opt_in"] and not g["confirmed_or_expired"]
        ]
        if not open_grants:
            step["kind"] = kind = "granted"
        else:
            # Mostly the latest open grant, so that a story's confirmation meets
            # its own grant.
            target = open_grants[-1] if draw(st.integers(0, 2)) else open_grants[0]
            step["refers_to"] = target
            step["purpose"] = grants[target]["purpose"]
            grants[target]["confirmed_or_expired"] = True
    if kind in ("granted", "granted_doi"):
        double_opt_in = kind == "granted_doi" or draw(st.booleans())
        step.update(kind="granted", double_opt_in=double_opt_in)
        grants[arrival] = {
            "purpose": purpose,
            "double_opt_in": double_opt_in,
            "confirmed_or_expired": False,
        }
    if kind in ("objected", "objection_lifted", "complained"):
        step["purpose"] = None
    return step


@st.composite
def people(draw):
    return {
        "steps": draw(histories()),
        "purchase": draw(st.sampled_from(PURCHASES)),
        "objection_offered": draw(st.integers(0, 3)) > 0,
        "suppressed": draw(st.integers(0, len(OFFSETS) - 1))
        if draw(st.integers(0, 4)) == 0
        else None,
        "hard_bounced": draw(st.integers(0, 11)) == 0,
        "language": draw(st.sampled_from(["nl", "en"])),
    }


@st.composite
def populations(draw, size):
    months = draw(st.sampled_from([1, 12, 24]))
    return months, draw(st.lists(people(), min_size=size, max_size=size))


# --- writing a population through the product ------------------------------------


def purchase_date(choice: str, today: date, months: int) -> date | None:
    cutoff = months_before(today, months)
    return {
        "none": None,
        "long_ago": cutoff - timedelta(days=400),
        "day_before_cutoff": cutoff - timedelta(days=1),
        "cutoff": cutoff,
        "day_after_cutoff": cutoff + timedelta(days=1),
        "today": today,
    }[choice]


CHANNELS = {
    "granted": "api",
    "confirmed": "form",
    "withdrawn": "unsubscribe",
    "objected": "centre",
    "objection_lifted": "centre",  # only the person, in the customer centre
    "unproven": "import",
    "expired": "system",
}


def store(raw, purposes, now, today, months) -> dict[int, Person]:
    """Write each generated person through the real writers; return the oracle's view."""
    by_id = {}
    for raw_person in raw:
        contact, _created = register_contact(
            {"email": f"p.{uuid.uuid4().hex[:12]}@example.org", "language": raw_person["language"]},
            source_kind="import",
            actor="test",
        )
        events = _record_history(contact, raw_person["steps"], purposes, now)
        bought = purchase_date(raw_person["purchase"], today, months)
        if bought is not None:
            record_purchase(
                contact,
                purchased_on=bought,
                description="wandelschoenen",
                objection_offered=raw_person["objection_offered"],
            )
        suppressed_at = None
        suppression = [s["offset"] for s in raw_person["steps"] if s["kind"] == "suppressed"]
        suppression = suppression or [raw_person["suppressed"]]
        if suppression[0] is not None:
            suppressed_at = now - OFFSETS[suppression[0]]
            Suppression.objects.create(
                email_hash=contact.email_hash, reason="address_changed", created_at=suppressed_at
            )
        if raw_person["hard_bounced"]:
            Contact.objects.filter(pk=contact.pk).update(hard_bounced_at=now)
        by_id[contact.pk] = Person(
            tuple(events),
            bought,
            raw_person["objection_offered"] and bought is not None,
            suppressed_at,
            raw_person["hard_bounced"],
        )
    return by_id


def _record_history(contact, steps, purposes, now) -> list[Ev]:
    events = []
    seq_of: dict[int, int] = {}
    for arrival, step in enumerate(steps):
        kind, at = step["kind"], now - OFFSETS[step["offset"]]
        if kind == "suppressed":
            continue
        purpose = purposes[step["purpose"]] if step["purpose"] else None
        refers_to = step.get("refers_to")
        if kind == "complained":
            # The writer the feedback-loop and sending-service reports go through.
            written = record_complaint(contact, report={"feedback": "abuse"}, occurred_at=at)
        else:
            written = record_event(
                contact,
                purpose,
                kind,
                channel=CHANNELS[kind],
                proof={"text": "Ja, stuur mij de nieuwsbrief."} if kind == "granted" else {},
                occurred_at=at,
                needs_confirmation=step.get("double_opt_in") if kind == "granted" else None,
                confirms_seq=seq_of[refers_to] if refers_to is not None else None,
            )
        seq_of[arrival] = written.seq
        events.append(
            Ev(
                arrival=written.seq,
                kind=kind,
                purpose=step["purpose"],
                at=at,
                needs_confirmation=bool(step.get("double_opt_in")),
                refers_to=seq_of[refers_to] if refers_to is not None else None,
            )
        )
    return events


# --- asking the product -----------------------------------------------------------

BASIS_OF_REASON = {
    "ok_consent": "consent",
    "ok_customer": "customer",
    "ok_unproven": "unproven_consent",
    "ok_service": "service",
}


def engine_answer(facts, mail_class, audience, today, months):
    """(allowed, basis, consent seq): the engine's answer behind the may-I-mail endpoint."""
    decision = decide(
        facts,
        MailClass(mail_class),
        audience and Audience(audience),
        today=today,
        customer_months=months,
    )
    return decision.allowed, decision.basis and decision.basis.value, decision.consent_seq


def query_answers(purpose, mail_class, audience, ids, today, months) -> dict:
    """pk -> (basis, consent seq) for the contacts the campaign audience query allows."""
    rows = lawful_recipients(
        purpose,
        mail_class,
        audience,
        today=today,
        customer_months=months,
        contacts=Contact.objects.filter(pk__in=ids),
    ).values_list("pk", "reason", "c_grant_seq")
    return {pk: (BASIS_OF_REASON.get(reason, reason), seq) for pk, reason, seq in rows}


def explain(person: Person) -> str:
    lines = [
        f"  #{e.arrival} {e.kind} {e.purpose or '-'} at={e.at.isoformat()}"
        f"{' double-opt-in' if e.needs_confirmation else ''}"
        f"{f' refers to #{e.refers_to}' if e.refers_to else ''}"
        for e in person.events
    ]
    return "\n".join(
        [
            f"last purchase {person.last_purchase_on}, offered objection "
            f"{person.objection_offered_at_sale}, suppressed {person.suppressed_at}, "
            f"hard bounce {person.hard_bounced}",
            *lines,
        ]
    )


# --- the comparisons ------------------------------------------------------------------

POPULATION = 16
EXAMPLES = 24
# Every rule the oracle names must have decided at least one case.
MUST_REACH = {
    "hard_bounced",
    "service",
    "withdrawn",
    "pending",
    "repermission_needs_unproven",
    "objection_blocks_repermission",
    "repermission_ok",
    "consent_after_objection",
    "objection_blocks_consent",
    "consent_after_complaint",
    "complaint_blocks_consent",
    "consent_after_suppression",
    "confirmed_after_suppression",
    "suppression_blocks_consent",
    "consent_after_lift",
    "not_customer",
    "customer_expired",
    "objection_not_offered",
    "soft_opt_in_lost_to_objection",
    "soft_opt_in_lost_to_complaint",
    "soft_opt_in_lost_to_suppression",
    "customer_ok",
    "soft_opt_in_not_for_other_products",
    "consent_not_enough_for_customers_only",
    "arrived_late",
    "late_grant_stays_withdrawn",
    "equal_timestamps",
    "expired_grant_dropped",
    "unproven_never_revives_or_weakens",
}


@pytest.fixture
def purposes(newsletter, product_updates):
    return {CAMPAIGN: newsletter, OTHER: product_updates}


def _setup_clock():
    now = timezone.now() - timedelta(minutes=1)
    return now, timezone.localdate()


@pytest.mark.django_db
def test_engine_and_audience_query_follow_the_rules_whatever_the_order(purposes):
    """The may-I-mail answer and the audience query both equal the oracle."""
    now, today = _setup_clock()
    compared = Counter()
    reached = Counter()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        # No shrinking: a population shrinks for minutes, and the failure
        # message already prints the one person's history that disagrees.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(populations(POPULATION))
    def compare(population):
        months, raw = population
        with transaction.atomic():
            Organisation.objects.filter(pk=Organisation.current().pk).update(
                customer_relationship_months=months
            )
            by_id = store(raw, purposes, now, today, months)
            # "it must always equal what replaying the ledger gives", and the
            # chain holds whatever order the events came in.
            assert rebuild_state(fix=False).drift == []
            assert verify_ledger().ok
            purpose = purposes[CAMPAIGN]
            facts = {pk: facts_for(Contact.objects.get(pk=pk), purpose) for pk in by_id}
            for mail_class, audience in COMBINATIONS:
                from_query = query_answers(purpose, mail_class, audience, by_id, today, months)
                for pk, person in by_id.items():
                    want = expected(person, mail_class, audience, today, months)
                    reached.update(want.hits)
                    context = f"{mail_class}/{audience} expected {want}\n{explain(person)}"
                    got = engine_answer(facts[pk], mail_class, audience, today, months)
                    _check(got, want, context)
                    compared["engine"] += 1
                    in_query = from_query.get(pk)
                    got = (True, *in_query) if in_query else (False, None, None)
                    _check(got, want, "audience query: " + context)
                    compared["query"] += 1
            transaction.set_rollback(True)

    compare()
    missing = MUST_REACH - reached.keys()
    assert not missing, f"the generator never reached: {sorted(missing)}"
    assert compared["engine"] >= 2000 and compared["query"] >= 2000, compared


def _check(got, want: Expected, context: str):
    allowed, basis, seq = got
    assert allowed == want.allowed, context
    if want.allowed:
        assert basis in want.bases, f"basis {basis}: {context}"
        if basis == "consent":
            # "per recipient the basis it used (which consent event ...)"
            assert seq == want.grant_arrival, f"consent event {seq}: {context}"


CAMPAIGN_EXAMPLES = 4
CAMPAIGN_POPULATION = 24
SENT = [SIMILAR_CUSTOMERS, SIMILAR_BOTH, OTHER_OPTINS]


@pytest.mark.django_db
def test_real_campaigns_reach_exactly_the_lawful_people(purposes, make_campaign, smtp_sink):
    """Each of the three audiences, sent through a real SMTP server, reaches the oracle's set."""
    now, today = _setup_clock()
    compared = Counter()

    @settings(
        max_examples=CAMPAIGN_EXAMPLES,
        deadline=None,
        derandomize=True,
        # No shrinking: a population shrinks for minutes, and the failure
        # message already prints the one person's history that disagrees.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(populations(CAMPAIGN_POPULATION))
    def send(population):
        months, raw = population
        with transaction.atomic():
            Organisation.objects.filter(pk=Organisation.current().pk).update(
                customer_relationship_months=months
            )
            by_id = store(raw, purposes, now, today, months)
            emails = dict(Contact.objects.filter(pk__in=by_id).values_list("pk", "email"))
            for mail_class, audience in SENT:
                wanted = {
                    pk: expected(person, mail_class, audience, today, months)
                    for pk, person in by_id.items()
                }
                lawful = {emails[pk] for pk, want in wanted.items() if want.allowed}
                smtp_sink.messages.clear()
                campaign = make_campaign(purposes[CAMPAIGN], mail_class, audience)
                compared["people"] += len(by_id)
                if not lawful:
                    # "A campaign that would reach nobody lawfully says so and why,
                    # before anything is sent."
                    with pytest.raises(CampaignNotReady):
                        freeze(campaign)
                    continue
                assert freeze(campaign) == len(lawful)
                stats = run_worker(campaign.pk, SmtpMessenger(smtp_sink.url), batch_size=7)
                assert stats.stopped_because == "finished"
                assert sorted(smtp_sink.recipients()) == sorted(lawful), (mail_class, audience)
                for delivery in Delivery.objects.filter(campaign=campaign):
                    want = wanted[delivery.contact_id]
                    assert delivery.basis in want.bases, explain(by_id[delivery.contact_id])
                    if delivery.basis == "consent":
                        assert delivery.consent_seq == want.grant_arrival
            transaction.set_rollback(True)

    send()
    assert compared["people"] >= CAMPAIGN_EXAMPLES * CAMPAIGN_POPULATION * len(SENT), compared


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["granted", "withdrawn", "unproven", "objected"])
def test_the_ledger_refuses_an_event_dated_in_the_future(purposes, contact, kind):
    """ "Events dated in the future are refused": nothing is written, not even in part."""
    purpose = None if kind == "objected" else purposes[CAMPAIGN]
    before = (ConsentEvent.objects.count(), ConsentState.objects.count(), Activity.objects.count())

    with pytest.raises(LedgerError):
        record_event(
            contact,
            purpose,
            kind,
            channel="api",
            occurred_at=timezone.now() + timedelta(minutes=10),
        )

    after = (ConsentEvent.objects.count(), ConsentState.objects.count(), Activity.objects.count())
    assert after == before
    assert Contact.objects.get(pk=contact.pk).objected_at is None


@pytest.mark.django_db
def test_an_expired_pending_grant_counts_as_if_it_never_happened(purposes, contact):
    """ "expired ... That grant then counts as if it never happened." """
    now = timezone.now()
    grant = record_event(
        contact,
        purposes[CAMPAIGN],
        "granted",
        channel="form",
        proof={"text": "Ja"},
        occurred_at=now - timedelta(days=2),
        needs_confirmation=True,
    )

    record_event(
        contact,
        purposes[CAMPAIGN],
        "expired",
        channel="system",
        occurred_at=now - timedelta(days=1),
        confirms_seq=grant.seq,
    )

    for mail_class, audience in [SIMILAR_BOTH, OTHER_OPTINS, REPERMISSION]:
        query = SimpleNamespace(
            purpose=purposes[CAMPAIGN].key, mail_class=mail_class, audience=audience
        )
        assert may_mail(contact, query)["allowed"] is False
    # No longer pending: the address is not held back as "awaiting confirmation".
    query = SimpleNamespace(
        purpose=purposes[CAMPAIGN].key, mail_class="marketing_other", audience="optins"
    )
    assert may_mail(contact, query)["reason"] != "pending_confirmation"


@pytest.mark.django_db
@pytest.mark.parametrize("channel", ["staff", "import", "api", "form", "system"])
def test_only_the_person_in_the_customer_centre_lifts_an_objection(contact, channel):
    """ "Only the customer centre (channel "centre") may record it"."""
    record_event(contact, None, "objected", channel="centre")
    before = (ConsentEvent.objects.count(), Activity.objects.count())

    with pytest.raises(LedgerError):
        record_event(contact, None, "objection_lifted", channel=channel)

    assert (ConsentEvent.objects.count(), Activity.objects.count()) == before
