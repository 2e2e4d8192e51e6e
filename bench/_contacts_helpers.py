"""Helpers for bench/contacts.py: a realistic population, written fast, and timing.

``populate`` writes what the services would write, through the project's bulk
paths: contacts and their "registered" activity with ``lib.bulk.insert_rows``
(COPY on PostgreSQL), purchases with the customer fields that
``contacts.services.refresh_customer_relationship`` derives from them, consent
events through the ledger's batch append (``consent.ledger.append``: hash chain,
proofs, derived ``ConsentState``, timeline), objections one by one through
``consent.ledger.record_event``, as the customer centre records them, and spam
complaints through ``consent.ledger.record_complaint``. Hard bounces are set
directly, as the sending pipeline does; erased people leave only a suppression
row. All names and addresses are made up.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

CHUNK = 5000
FIRST_NAMES = ["Anna", "Bram", "Carla", "Daan", "Eva", "Fleur", "Gijs", "Hanna", "Ivo", "Julia"]
LAST_NAMES = [
    "de Vries",
    "Jansen",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "Brouwer",
]
ORGANISATIONS = ["Bakkerij Zuid", "Fietsenmaker Oost", "Studio Noord", "Kantoor West"]
PRODUCTS = ["wandelschoenen", "regenjas", "rugzak", "sokken (3 paar)", "slaapzak", "tent"]
SOURCES = [("form", 0.45), ("import", 0.35), ("staff", 0.1), ("api", 0.1)]

# Per purpose: (share, outcome). Outcomes: "none" (no event), "granted"
# (single opt-in grant, or a double opt-in grant plus its confirmation),
# "pending" (double opt-in grant never confirmed), "withdrawn" (granted, later
# withdrawn), "unproven" (an old list without proof).
NEWSLETTER_MIX = [
    ("none", 0.30),
    ("granted", 0.32),
    ("pending", 0.10),
    ("withdrawn", 0.12),
    ("unproven", 0.16),
]
UPDATES_MIX = [("none", 0.52), ("granted", 0.28), ("withdrawn", 0.08), ("unproven", 0.12)]

CUSTOMER_SHARE = 0.40
OBJECTION_SHARE = 0.03
REGRANT_AFTER_OBJECTION = 0.15  # of the objectors: a later explicit consent (productupdates)
HARD_BOUNCE_SHARE = 0.015
COMPLAINT_SHARE = 0.003
RETURNED_AFTER_ERASURE = 0.001  # contacts whose address is on the suppression list
ERASED_SHARE = 0.005  # suppression rows of people who are gone


def _pick(rng: random.Random, mix) -> str:
    roll = rng.random()
    for value, share in mix:
        roll -= share
        if roll < 0:
            return value
    return mix[-1][0]


def address(n: int) -> str:
    return f"contact{n}@example{n % 97}.nl"


def make_purposes():
    from akkoord.consent.models import Purpose

    newsletter = Purpose.objects.create(
        key="nieuwsbrief",
        name_nl="Nieuwsbrief",
        name_en="Newsletter",
        consent_text_nl="Ja, stuur mij de maandelijkse nieuwsbrief.",
        consent_text_en="Yes, send me the monthly newsletter.",
        double_opt_in=True,
    )
    updates = Purpose.objects.create(
        key="productupdates",
        name_nl="Productupdates",
        name_en="Product updates",
        consent_text_nl="Ja, houd mij op de hoogte van nieuwe producten.",
        consent_text_en="Yes, tell me about new products.",
        double_opt_in=False,
        position=1,
    )
    return newsletter, updates


def _proof(rng: random.Random, channel: str, n: int, purpose, language: str) -> dict:
    if channel == "import":
        return {"file": "oude-lijst.csv", "row": n + 2, "format": "mailchimp"}
    if channel == "staff":
        return {"how": "by phone", "staff": "bench@example.com", "text": purpose.consent_text_nl}
    return {
        "ip": f"192.0.2.{rng.randint(1, 254)}",
        "user_agent": "Mozilla/5.0 (bench)",
        "text": purpose.consent_text(language),
        "form": "aanmelden-v3",
    }


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    if end <= start:
        return start
    return start + timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))


# Product categories of the purchases: bicycles and e-bikes are similar to each other.
CATEGORIES = {
    "bicycles": "Fietsen",
    "ebikes": "E-bikes",
    "repairs": "Reparaties",
    "gear": "Uitrusting",
}
# Share of contacts tagged "fair-2026" (the tag the segment benchmark selects on).
TAG_SHARE = 0.1
TAG = "fair-2026"


def make_categories() -> dict:
    from akkoord.contacts.models import ProductCategory

    made = {
        key: ProductCategory.objects.get_or_create(
            key=key, defaults={"name_nl": nl, "name_en": key}
        )[0]
        for key, nl in CATEGORIES.items()
    }
    made["bicycles"].similar_to.add(made["ebikes"])
    return made


def populate(size: int, *, seed: int = 11, progress=None) -> dict:
    """Create ``size`` contacts with purchases and consents; return what was written."""
    from akkoord.consent.ledger import NewEvent, append, record_complaint, record_event
    from akkoord.consent.models import Suppression
    from akkoord.consent.rules import EventKind
    from akkoord.contacts.emails import email_hash
    from akkoord.contacts.models import Activity, ActivityKind, Contact, Purchase
    from akkoord.lib.bulk import insert_rows
    from akkoord.segments.models import Tag

    rng = random.Random(seed)
    # Own generators: categories and tags leave the rest of the population as it was.
    category_rng, tag_rng = random.Random(seed + 1), random.Random(seed + 2)
    categories = list(make_categories().values())
    tag = Tag.objects.get_or_create(name=TAG)[0]
    newsletter, updates = make_purposes()
    now = timezone.now()
    today = timezone.localdate()
    start = now - timedelta(days=3 * 365)
    step = (now - timedelta(days=1) - start) / max(size, 1)
    stats = {"contacts": 0, "purchases": 0, "events_batched": 0, "objections": 0}
    objectors: list[tuple[int, datetime]] = []  # (n, time of the contact's last event)
    # (n, when): spam complaints, recorded through the ledger after the load, as
    # the deliverability loop records them (a complaint withdraws every purpose).
    complainers: list[tuple[int, datetime]] = []
    returned: list[tuple[int, datetime]] = []

    for first in range(0, size, CHUNK):
        indexes = range(first, min(first + CHUNK, size))
        with transaction.atomic():
            contacts, plans = [], []
            for n in indexes:
                created = start + step * n
                source = _pick(rng, SOURCES)
                language = "en" if rng.random() < 0.2 else "nl"
                purchases = []
                if rng.random() < CUSTOMER_SHARE:
                    days = max((today - created.date()).days, 0)
                    for _k in range(rng.choice([1, 1, 1, 2, 2, 3])):
                        purchases.append(
                            (
                                created.date() + timedelta(days=rng.randint(0, days)),
                                rng.random() < 0.85,
                            )
                        )
                email = address(n)
                contacts.append(
                    Contact(
                        email=email,
                        email_hash=email_hash(email),
                        first_name=rng.choice(FIRST_NAMES) if rng.random() < 0.93 else "",
                        last_name=rng.choice(LAST_NAMES) if rng.random() < 0.9 else "",
                        organisation_name=rng.choice(ORGANISATIONS) if rng.random() < 0.1 else "",
                        language=language,
                        source_kind=source,
                        source_detail="oude-lijst.csv" if source == "import" else "",
                        collected_from_person=source != "import",
                        created_at=created,
                        informed_at=created + timedelta(minutes=2),
                        # Derived from the purchases, as refresh_customer_relationship does.
                        customer_since=min((p[0] for p in purchases), default=None),
                        last_purchase_on=max((p[0] for p in purchases), default=None),
                        objection_offered_at_sale=any(p[1] for p in purchases),
                        hard_bounced_at=(
                            _between(rng, created, now)
                            if rng.random() < HARD_BOUNCE_SHARE
                            else None
                        ),
                    )
                )
                if rng.random() < COMPLAINT_SHARE:
                    complainers.append((n, _between(rng, created, now)))
                plans.append((n, source, language, purchases))
            insert_rows(Contact, contacts)
            if contacts[0].pk is None:  # backends without RETURNING
                pks = dict(
                    Contact.objects.filter(email__in=[c.email for c in contacts]).values_list(
                        "email", "pk"
                    )
                )
                for contact in contacts:
                    contact.pk = pks[contact.email]
            insert_rows(
                Activity,
                [
                    Activity(
                        contact=c,
                        kind=ActivityKind.CREATED,
                        occurred_at=c.created_at,
                        actor="bench",
                        summary="registered",
                        data={"source": c.source_kind, "detail": c.source_detail},
                    )
                    for c in contacts
                ],
            )
            purchase_rows = [
                Purchase(
                    contact=contact,
                    purchased_on=day,
                    description=rng.choice(PRODUCTS),
                    reference=f"ORD-{n}-{k}",
                    objection_offered=offered,
                    category=category_rng.choice(categories),
                    source_kind="api",
                    created_at=datetime.combine(day, datetime.min.time(), tzinfo=UTC),
                )
                for contact, (n, _s, _l, purchases) in zip(contacts, plans, strict=True)
                for k, (day, offered) in enumerate(purchases)
            ]
            insert_rows(Purchase, purchase_rows)
            insert_rows(
                Tag.contacts.through,
                [
                    Tag.contacts.through(tag=tag, contact=contact)
                    for contact in contacts
                    if tag_rng.random() < TAG_SHARE
                ],
            )
            insert_rows(
                Activity,
                [
                    Activity(
                        contact=p.contact,
                        kind=ActivityKind.PURCHASE,
                        occurred_at=p.created_at,
                        actor="bench",
                        summary=f"purchase on {p.purchased_on.isoformat()}",
                        data={
                            "purchase": p.pk,
                            "purchased_on": p.purchased_on.isoformat(),
                            "description": p.description,
                            "objection_offered": p.objection_offered,
                        },
                    )
                    for p in purchase_rows
                ],
            )
            pending: list[NewEvent] = []
            for contact, (n, source, language, _p) in zip(contacts, plans, strict=True):
                last = contact.created_at
                for purpose, mix in ((newsletter, NEWSLETTER_MIX), (updates, UPDATES_MIX)):
                    outcome = _pick(rng, mix)
                    if outcome == "none":
                        continue
                    channel = "import" if source == "import" else source
                    if channel == "api":
                        channel = "form"  # the shop's sign-up API posts form consents
                    old_list = channel == "import" and outcome in ("granted", "pending")
                    if old_list and rng.random() < 0.3:
                        outcome = "unproven"  # old lists often carry no proof
                    common = {"channel": channel, "actor": "bench"}
                    at = contact.created_at + timedelta(seconds=rng.randint(1, 300))
                    if outcome == "unproven":
                        pending.append(
                            NewEvent(
                                contact,
                                purpose,
                                EventKind.UNPROVEN,
                                occurred_at=at,
                                proof=_proof(rng, "import", n, purpose, language),
                                **{**common, "channel": "import"},
                            )
                        )
                        last = max(last, at)
                        continue
                    proof = _proof(rng, channel, n, purpose, language)
                    double = purpose.double_opt_in and channel != "staff"
                    grant = NewEvent(
                        contact,
                        purpose,
                        EventKind.GRANTED,
                        occurred_at=at,
                        proof=proof,
                        needs_confirmation=double,
                        **common,
                    )
                    pending.append(grant)
                    last = max(last, at)
                    if double and outcome != "pending":
                        confirmed = at + timedelta(minutes=rng.randint(1, 600))
                        pending.append(
                            NewEvent(
                                contact,
                                purpose,
                                EventKind.CONFIRMED,
                                occurred_at=confirmed,
                                proof={"ip": proof.get("ip", ""), "link": "confirmation"},
                                confirms=grant,
                                **common,
                            )
                        )
                        last = max(last, confirmed)
                    if outcome == "withdrawn":
                        gone = _between(rng, last, now - timedelta(hours=1))
                        pending.append(
                            NewEvent(
                                contact,
                                purpose,
                                EventKind.WITHDRAWN,
                                occurred_at=gone,
                                proof={"how": "unsubscribe link", "campaign": rng.randint(1, 40)},
                                **{**common, "channel": "unsubscribe"},
                            )
                        )
                        last = max(last, gone)
                if rng.random() < OBJECTION_SHARE:
                    objectors.append((n, last))
                elif source == "form" and rng.random() < RETURNED_AFTER_ERASURE * 2:
                    returned.append((n, contact.created_at))
            append(pending)
            stats["events_batched"] += len(pending)
            stats["contacts"] += len(contacts)
            stats["purchases"] += len(purchase_rows)
        if progress is not None:
            progress(stats["contacts"])

    # Objections (art. 21) one by one through the ledger, some followed by a new
    # explicit consent that overrides them for one purpose.
    started = time.perf_counter()
    regrants = []
    with transaction.atomic():
        by_email = {}
        for first in range(0, len(objectors), CHUNK):
            part = [address(n) for n, _last in objectors[first : first + CHUNK]]
            by_email.update({c.email: c for c in Contact.objects.filter(email__in=part)})
        for n, last in objectors:
            contact = by_email[address(n)]
            at = _between(rng, last, now - timedelta(minutes=30))
            record_event(
                contact,
                None,
                EventKind.OBJECTED,
                channel="centre",
                occurred_at=at,
                proof={"ip": f"192.0.2.{rng.randint(1, 254)}", "page": "voorkeuren"},
                actor="bench",
            )
            if rng.random() < REGRANT_AFTER_OBJECTION:
                regrants.append(
                    NewEvent(
                        contact,
                        updates,
                        EventKind.GRANTED,
                        occurred_at=_between(rng, at, now - timedelta(minutes=1)),
                        proof={
                            "ip": "192.0.2.9",
                            "text": updates.consent_text_nl,
                            "form": "centre",
                        },
                        # These regrants are in force at once, not pending a confirmation.
                        needs_confirmation=False,
                        channel="centre",
                        actor="bench",
                    )
                )
        append(regrants)
        for first in range(0, len(complainers), CHUNK):
            part = {address(n): at for n, at in complainers[first : first + CHUNK]}
            for contact in Contact.objects.filter(email__in=list(part)):
                record_complaint(
                    contact, report={"feedback_type": "abuse"}, occurred_at=part[contact.email]
                )
    stats["complaints"] = len(complainers)
    stats["objections"] = len(objectors)
    stats["regrants_after_objection"] = len(regrants)
    stats["objection_seconds"] = round(time.perf_counter() - started, 1)

    # Erased people leave a suppression row; a few came back later (new contact,
    # new consent), so that their address is suppressed too.
    erased = [
        Suppression(email_hash=email_hash(f"erased{k}@example.nl"), created_at=start)
        for k in range(int(size * ERASED_SHARE))
    ]
    erased += [
        Suppression(
            email_hash=email_hash(address(n)),
            created_at=created - timedelta(days=rng.randint(1, 200)),
        )
        for n, created in returned
    ]
    insert_rows(Suppression, erased)
    stats["suppressions"] = len(erased)
    return stats


def engine_allowed(purpose, audiences, *, mail_class, today: date, customer_months: int) -> dict:
    """The ids of the lawful recipients per audience according to the pure engine
    (``consent.rules.decide``), from facts read in bulk: the check on the query."""
    from akkoord.consent.models import ConsentState, Suppression
    from akkoord.consent.rules import ConsentStatus, ContactFacts, PurposeConsent, decide
    from akkoord.contacts.models import Contact

    states = {
        row[0]: PurposeConsent(ConsentStatus(row[1]), *row[2:])
        for row in ConsentState.objects.filter(purpose=purpose).values_list(
            "contact_id",
            "status",
            "grant_seq",
            "granted_at",
            "confirmed_at",
            "changed_at",
            "last_seq",
        )
    }
    suppressed = dict(Suppression.objects.values_list("email_hash", "created_at"))
    allowed: dict = {audience: set() for audience in audiences}
    rows = Contact.objects.values_list(
        "pk",
        "email_hash",
        "last_purchase_on",
        "objection_offered_at_sale",
        "objected_at",
        "has_objected",
        "hard_bounced_at",
        "complained_at",
    )
    for pk, hashed, last_purchase, offered, objected, ever, bounced, complained in rows.iterator(
        chunk_size=5000
    ):
        facts = ContactFacts(
            consent=states.get(pk, PurposeConsent()),
            last_purchase_on=last_purchase,
            objection_offered_at_sale=offered,
            objected_at=objected,
            has_objected=ever,
            suppressed_at=suppressed.get(hashed),
            hard_bounced=bounced is not None,
            complained_at=complained,
        )
        for audience in audiences:
            decision = decide(
                facts, mail_class, audience, today=today, customer_months=customer_months
            )
            if decision.allowed:
                allowed[audience].add(pk)
    return allowed


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (as numpy's default)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000
