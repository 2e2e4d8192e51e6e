"""The lawfulness rules as one database query, for whole audiences.

Mirrors ``consent.rules.decide`` condition for condition: every contact is
annotated with the ``reason`` the pure engine would give, in the same order.
A property test (``tests/test_audience_agreement.py``) checks that both agree on
generated populations, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from akkoord.consent.models import ConsentState, Purpose, Suppression
from akkoord.consent.rules import (
    ALLOWING_REASONS,
    Audience,
    ConsentStatus,
    ContactFacts,
    MailClass,
    PurchaseFact,
    PurposeConsent,
    Reason,
    audience_allows,
    customer_cutoff,
)
from akkoord.contacts.models import Contact, ProductCategory, Purchase

# Stands in for "never" so that comparisons never meet NULL (whose three-valued
# logic would silently differ from Python's).
_NEVER = datetime(1900, 1, 1, tzinfo=UTC)


def _annotated(purpose: Purpose, contacts: QuerySet | None = None) -> QuerySet:
    contacts = Contact.objects.all() if contacts is None else contacts
    return contacts.annotate(
        st=FilteredRelation("consent_states", condition=Q(consent_states__purpose=purpose)),
    ).annotate(
        c_status=Coalesce(
            F("st__status"), Value(ConsentStatus.NONE.value), output_field=CharField()
        ),
        c_granted=Coalesce(F("st__granted_at"), Value(_NEVER), output_field=DateTimeField()),
        c_confirmed=Coalesce(F("st__confirmed_at"), Value(_NEVER), output_field=DateTimeField()),
        c_grant_seq=F("st__grant_seq"),
        # One LEFT JOIN on the hash (a correlated subquery per contact would
        # also keep PostgreSQL from a parallel plan).
        c_suppressed=ExpressionWrapper(
            Q(suppression__pk__isnull=False), output_field=BooleanField()
        ),
        c_suppressed_at=Coalesce(
            F("suppression__created_at"), Value(_NEVER), output_field=DateTimeField()
        ),
        c_objected=Coalesce(F("objected_at"), Value(_NEVER), output_field=DateTimeField()),
        c_complained=Coalesce(F("complained_at"), Value(_NEVER), output_field=DateTimeField()),
    )


def _double_opted_in_after(moment: str) -> Q:
    """The twin of ``PurposeConsent.double_opted_in_after`` (a missing time is "never")."""
    return (
        Q(c_status=ConsentStatus.GRANTED.value)
        & Q(st__confirmed_at__isnull=False)
        & Q(c_granted__gt=F(moment))
        & Q(c_confirmed__gt=F(moment))
    )


def _marketing_exclusions() -> list[tuple[Q, Reason]]:
    granted = Q(c_status=ConsentStatus.GRANTED.value)
    return [
        (
            Q(c_suppressed=True) & ~(granted & Q(c_confirmed__gt=F("c_suppressed_at"))),
            Reason.SUPPRESSED,
        ),
        (Q(hard_bounced_at__isnull=False), Reason.HARD_BOUNCED),
        (
            Q(complained_at__isnull=False) & ~_double_opted_in_after("c_complained"),
            Reason.COMPLAINED,
        ),
        (Q(c_status=ConsentStatus.WITHDRAWN.value), Reason.WITHDRAWN),
        (Q(c_status=ConsentStatus.PENDING.value), Reason.PENDING_CONFIRMATION),
        (
            Q(objected_at__isnull=False) & ~_double_opted_in_after("c_objected"),
            Reason.OBJECTED,
        ),
    ]


def _carrying_purchases(cutoff: date, category_ids: list[int] | None) -> QuerySet:
    """The twin of ``rules.carrying_purchase``: a contact's purchases that may
    carry the soft opt-in, the one it rests on first."""
    purchases = Purchase.objects.filter(contact=OuterRef("pk"), purchased_on__gte=cutoff)
    if category_ids is not None:
        purchases = purchases.filter(category_id__in=category_ids)
    return purchases.order_by("-purchased_on", "-id")


def _customer_problems(cutoff: date, category_ids: list[int] | None) -> list[tuple[Q, Reason]]:
    problems = [
        (Q(last_purchase_on__isnull=True), Reason.NOT_CUSTOMER),
        (Q(c_suppressed=True), Reason.SUPPRESSED),
        (Q(has_objected=True) | Q(objected_at__isnull=False), Reason.OBJECTED),
        (Q(complained_at__isnull=False), Reason.COMPLAINED),
        (Q(objection_offered_at_sale=False), Reason.OBJECTION_NOT_OFFERED),
        (Q(last_purchase_on__lt=cutoff), Reason.CUSTOMER_EXPIRED),
    ]
    if category_ids is not None:
        similar = Exists(_carrying_purchases(cutoff, category_ids))
        problems.append((~Q(similar), Reason.BOUGHT_UNRELATED))
    return problems


def _conditions(mail_class, audience, cutoff, category_ids=None) -> list[tuple[Q, Reason]]:
    """The ordered (condition, reason) list; the first that holds decides."""
    if mail_class == MailClass.SERVICE:
        return [(Q(hard_bounced_at__isnull=False), Reason.HARD_BOUNCED), (Q(), Reason.OK_SERVICE)]
    if mail_class != MailClass.REPERMISSION and (
        audience is None or not audience_allows(audience, mail_class)
    ):
        return [(Q(), Reason.AUDIENCE_NOT_FOR_CLASS)]
    steps = _marketing_exclusions()
    granted = Q(c_status=ConsentStatus.GRANTED.value)
    unproven = Q(c_status=ConsentStatus.UNPROVEN.value)
    if mail_class == MailClass.REPERMISSION:
        return [*steps, (unproven, Reason.OK_UNPROVEN), (Q(), Reason.NOT_UNPROVEN)]
    no_consent = [(unproven, Reason.UNPROVEN_ONLY), (Q(), Reason.NO_CONSENT)]
    if audience == Audience.OPTINS:
        return [*steps, (granted, Reason.OK_CONSENT), *no_consent]
    problems = _customer_problems(cutoff, category_ids)
    if audience == Audience.CUSTOMERS:
        return [*steps, *problems, (Q(), Reason.OK_CUSTOMER)]
    # Customers + opt-ins: consent first, then the soft opt-in, then why not.
    customer_ok = ~Q(_any(problems))
    is_customer = Q(last_purchase_on__isnull=False)
    return [
        *steps,
        (granted, Reason.OK_CONSENT),
        (customer_ok, Reason.OK_CUSTOMER),
        *[(is_customer & condition, reason) for condition, reason in problems[1:]],
        *no_consent,
    ]


def _any(pairs: list[tuple[Q, Reason]]) -> Q:
    combined = pairs[0][0]
    for condition, _reason in pairs[1:]:
        combined |= condition
    return combined


def with_decisions(
    purpose: Purpose,
    mail_class: MailClass,
    audience: Audience | None,
    *,
    today: date,
    customer_months: int,
    contacts: QuerySet | None = None,
    similar_categories: frozenset[str] | None = None,
    carrying_purchase: bool = False,
) -> QuerySet:
    """Contacts annotated with ``reason`` (a ``Reason`` value) and ``c_grant_seq``.

    ``similar_categories`` (category keys) as in ``rules.decide``. With
    ``carrying_purchase`` also ``c_purchase_id``: the purchase a customer basis
    rests on (asked only where it is used: it costs a subquery per contact).
    """
    cutoff = customer_cutoff(today, customer_months)
    category_ids = _category_ids(similar_categories)
    steps = _conditions(
        MailClass(mail_class), audience and Audience(audience), cutoff, category_ids
    )
    # An empty Q() means "otherwise"; When() needs a real condition.
    whens = [
        When(condition or Q(pk__isnull=False), then=Value(reason.value))
        for condition, reason in steps
    ]
    decided = _annotated(purpose, contacts).annotate(
        reason=Case(*whens, default=Value("unreachable"), output_field=CharField())
    )
    if carrying_purchase:
        first = _carrying_purchases(cutoff, category_ids).values("id")[:1]
        decided = decided.annotate(c_purchase_id=Subquery(first))
    return decided


def _category_ids(keys: frozenset[str] | None) -> list[int] | None:
    if keys is None:
        return None
    return list(ProductCategory.objects.filter(key__in=keys).values_list("id", flat=True))


def lawful_recipients(
    purpose,
    mail_class,
    audience,
    *,
    today,
    customer_months,
    contacts=None,
    similar_categories=None,
):
    """Only the contacts the engine allows, each with its ``reason`` (hence basis)
    and ``c_purchase_id`` (the purchase a customer basis rests on).

    The decision is worked out only for the candidates (``_candidates``): on a
    large population most contacts cannot be allowed, and ruling them out by an
    indexed column is much cheaper than deciding them one by one.
    """
    allowing = [reason.value for reason in ALLOWING_REASONS]
    decided = with_decisions(
        purpose,
        mail_class,
        audience,
        today=today,
        customer_months=customer_months,
        contacts=contacts,
        similar_categories=similar_categories,
        carrying_purchase=True,
    )
    cutoff = customer_cutoff(today, customer_months)
    candidates = _candidates(MailClass(mail_class), audience and Audience(audience), cutoff)
    # The state's own status (NULL without a row), on the decision's join: a
    # filter on ``st__status`` would join the state table a second time.
    decided = decided.alias(st_status=F("st__status"))
    return decided.filter(candidates, reason__in=allowing)


def _candidates(mail_class: MailClass, audience: Audience | None, cutoff: date) -> Q:
    """A condition every contact the engine allows meets: it only narrows the
    contacts to decide about, and never changes an answer.

    Each clause is a necessary condition of the allowing reasons that
    ``_conditions`` (and ``rules.decide``) can give for this mail class and
    audience; a contact that fails it ends on an excluding reason. The clauses
    use ``st_status`` (the state row's status, not the coalesced ``c_status``)
    so that the index on the state's (purpose, status) can find the rows.
    """
    if mail_class == MailClass.SERVICE:
        # OK_SERVICE is the only allowing reason; a hard bounce comes first.
        return Q(hard_bounced_at__isnull=True)
    if mail_class != MailClass.REPERMISSION and (
        audience is None or not audience_allows(audience, mail_class)
    ):
        return Q(pk__in=[])  # AUDIENCE_NOT_FOR_CLASS for everyone
    # A hard bounce excludes from any marketing, whatever the consent.
    reachable = Q(hard_bounced_at__isnull=True)
    if mail_class == MailClass.REPERMISSION:
        return reachable & Q(st_status=ConsentStatus.UNPROVEN.value)  # OK_UNPROVEN
    consent = Q(st_status=ConsentStatus.GRANTED.value)  # OK_CONSENT
    if audience == Audience.OPTINS:
        return reachable & consent
    if audience == Audience.CUSTOMERS:
        return reachable & _soft_opt_in_possible(cutoff)
    return reachable & (consent | _soft_opt_in_possible(cutoff))


def _soft_opt_in_possible(cutoff: date) -> Q:
    """Necessary for OK_CUSTOMER: none of the contact's own columns names a
    customer problem (``rules.customer_problem``; suppression and similar
    products are left to the decision). ``last_purchase_on`` is indexed."""
    return Q(
        last_purchase_on__gte=cutoff,  # not NOT_CUSTOMER, not CUSTOMER_EXPIRED
        has_objected=False,  # not OBJECTED
        objected_at__isnull=True,
        complained_at__isnull=True,  # not COMPLAINED
        objection_offered_at_sale=True,  # not OBJECTION_NOT_OFFERED
    )


def facts_for(contact: Contact, purpose: Purpose) -> ContactFacts:
    """The engine's input for one contact, read from the database."""
    state = ConsentState.objects.filter(contact=contact, purpose=purpose).first()
    consent = PurposeConsent()
    if state is not None:
        consent = PurposeConsent(
            ConsentStatus(state.status),
            state.grant_seq,
            state.granted_at,
            state.confirmed_at,
            state.changed_at,
            state.last_seq,
            state.last_at,
        )
    suppression = Suppression.objects.filter(email_hash=contact.email_hash).first()
    return ContactFacts(
        consent=consent,
        last_purchase_on=contact.last_purchase_on,
        objection_offered_at_sale=contact.objection_offered_at_sale,
        objected_at=contact.objected_at,
        has_objected=contact.has_objected,
        suppressed_at=suppression.created_at if suppression else None,
        hard_bounced=contact.hard_bounced_at is not None,
        complained_at=contact.complained_at,
        purchases=tuple(
            PurchaseFact(pk, purchased_on, key)
            for pk, purchased_on, key in contact.purchases.order_by(
                "purchased_on", "id"
            ).values_list("pk", "purchased_on", "category__key")
        ),
    )
