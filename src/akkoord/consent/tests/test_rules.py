"""The lawfulness engine, rule by rule (DOMAIN §3). Pure: no database."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from akkoord.consent.rules import (
    Audience,
    Basis,
    ConsentStatus,
    ContactFacts,
    EventKind,
    LedgerEntry,
    MailClass,
    PurposeConsent,
    Reason,
    Standing,
    apply_event,
    customer_cutoff,
    decide,
    fold_purpose,
    fold_standing,
    is_late,
    months_before,
)

TODAY = date(2026, 11, 23)
T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
MONTHS = 24
SIMILAR = MailClass.MARKETING_SIMILAR
OTHER = MailClass.MARKETING_OTHER


def consent(status=ConsentStatus.GRANTED, at=T0, confirmed=None, seq=7):
    return PurposeConsent(status, seq, at, confirmed, at, seq)


def customer(**extra):
    facts = {"last_purchase_on": TODAY - timedelta(days=30), "objection_offered_at_sale": True}
    facts.update(extra)
    return ContactFacts(**facts)


def run(facts, mail_class=SIMILAR, audience=Audience.CUSTOMERS):
    return decide(facts, mail_class, audience, today=TODAY, customer_months=MONTHS)


def test_customer_with_offered_objection_gets_similar_products():
    decision = run(customer())
    assert decision.allowed and decision.basis == Basis.CUSTOMER


def test_customer_without_offered_objection_gets_nothing():
    decision = run(customer(objection_offered_at_sale=False))
    assert not decision.allowed and decision.reason == Reason.OBJECTION_NOT_OFFERED


def test_customer_relationship_expires_after_the_configured_months():
    cutoff = customer_cutoff(TODAY, MONTHS)
    assert run(customer(last_purchase_on=cutoff)).allowed
    expired = run(customer(last_purchase_on=cutoff - timedelta(days=1)))
    assert expired.reason == Reason.CUSTOMER_EXPIRED


def test_customer_relationship_never_covers_other_marketing():
    decision = run(customer(), OTHER, Audience.OPTINS)
    assert not decision.allowed and decision.reason == Reason.NO_CONSENT


@pytest.mark.parametrize("audience", [Audience.CUSTOMERS, Audience.CUSTOMERS_AND_OPTINS])
def test_customer_audiences_refuse_other_content(audience):
    decision = run(customer(consent=consent()), OTHER, audience)
    assert decision.reason == Reason.AUDIENCE_NOT_FOR_CLASS


def test_opt_in_gets_anything_with_the_consent_event_as_basis():
    decision = run(ContactFacts(consent=consent(seq=42)), OTHER, Audience.OPTINS)
    assert decision.allowed and decision.basis == Basis.CONSENT and decision.consent_seq == 42


def test_customers_and_optins_prefers_consent_then_customer():
    both = run(customer(consent=consent()), SIMILAR, Audience.CUSTOMERS_AND_OPTINS)
    assert both.basis == Basis.CONSENT
    only_customer = run(customer(), SIMILAR, Audience.CUSTOMERS_AND_OPTINS)
    assert only_customer.basis == Basis.CUSTOMER
    neither = run(ContactFacts(), SIMILAR, Audience.CUSTOMERS_AND_OPTINS)
    assert neither.reason == Reason.NO_CONSENT


def test_opt_in_alone_is_not_in_customers_only():
    decision = run(ContactFacts(consent=consent()), SIMILAR, Audience.CUSTOMERS)
    assert decision.reason == Reason.NOT_CUSTOMER


def test_objection_is_absolute_for_customers_and_earlier_consent():
    objected = T0 + timedelta(days=1)
    facts = customer(consent=consent(at=T0), objected_at=objected)
    for audience in Audience:
        decision = run(facts, SIMILAR, audience)
        assert not decision.allowed and decision.reason == Reason.OBJECTED


def test_double_opt_in_after_an_objection_counts_for_that_purpose_only():
    later = T0 + timedelta(days=2)
    facts = customer(consent=consent(at=later, confirmed=later), objected_at=T0, has_objected=True)
    assert run(facts, OTHER, Audience.OPTINS).basis == Basis.CONSENT
    assert run(facts, SIMILAR, Audience.CUSTOMERS_AND_OPTINS).basis == Basis.CONSENT
    # ...but the soft opt-in stays blocked.
    assert run(facts, SIMILAR, Audience.CUSTOMERS).reason == Reason.OBJECTED
    no_consent = customer(objected_at=T0, has_objected=True)
    assert run(no_consent, SIMILAR, Audience.CUSTOMERS).reason == Reason.OBJECTED


@pytest.mark.parametrize(
    ("granted", "confirmed"),
    [
        (T0 + timedelta(days=2), None),  # no double opt-in
        (T0 - timedelta(days=1), T0 + timedelta(days=2)),  # given before, confirmed after
        (T0, T0 + timedelta(days=2)),  # given at the same instant: not after
    ],
)
def test_an_objection_is_not_lifted_by_a_weaker_consent(granted, confirmed):
    facts = ContactFacts(
        consent=consent(at=granted, confirmed=confirmed), objected_at=T0, has_objected=True
    )
    for audience in (Audience.OPTINS, Audience.CUSTOMERS_AND_OPTINS):
        assert run(facts, SIMILAR, audience).reason == Reason.OBJECTED


def test_after_a_lifted_objection_consents_count_but_the_soft_opt_in_does_not():
    # The objection was lifted: none in force, but the person did object once.
    facts = customer(consent=consent(at=T0 - timedelta(days=9)), has_objected=True)
    assert run(facts, OTHER, Audience.OPTINS).basis == Basis.CONSENT
    assert run(facts, SIMILAR, Audience.CUSTOMERS).reason == Reason.OBJECTED
    unproven = ContactFacts(consent=consent(ConsentStatus.UNPROVEN), has_objected=True)
    assert run(unproven, MailClass.REPERMISSION, None).allowed


def test_an_objection_in_force_blocks_the_repermission_mail():
    facts = ContactFacts(
        consent=consent(ConsentStatus.UNPROVEN), objected_at=T0 - timedelta(days=1)
    )
    assert run(facts, MailClass.REPERMISSION, None).reason == Reason.OBJECTED


def test_a_complaint_excludes_until_a_double_opt_in_after_it():
    before = customer(consent=consent(at=T0 - timedelta(days=1)), complained_at=T0)
    for audience in Audience:
        assert run(before, SIMILAR, audience).reason == Reason.COMPLAINED
    later = T0 + timedelta(days=1)
    single = customer(consent=consent(at=later), complained_at=T0)
    assert run(single, OTHER, Audience.OPTINS).reason == Reason.COMPLAINED
    double = customer(consent=consent(at=later, confirmed=later), complained_at=T0)
    assert run(double, OTHER, Audience.OPTINS).basis == Basis.CONSENT
    assert run(double, SIMILAR, Audience.CUSTOMERS_AND_OPTINS).basis == Basis.CONSENT
    # The soft opt-in never comes back after a complaint.
    assert run(double, SIMILAR, Audience.CUSTOMERS).reason == Reason.COMPLAINED


def test_withdrawn_purpose_excludes_even_a_customer():
    facts = customer(consent=consent(ConsentStatus.WITHDRAWN))
    for audience in Audience:
        assert run(facts, SIMILAR, audience).reason == Reason.WITHDRAWN


def test_pending_confirmation_is_excluded():
    facts = customer(consent=consent(ConsentStatus.PENDING))
    assert run(facts, SIMILAR, Audience.CUSTOMERS_AND_OPTINS).reason == Reason.PENDING_CONFIRMATION


def test_unproven_consent_allows_only_the_repermission_mail():
    facts = ContactFacts(consent=consent(ConsentStatus.UNPROVEN, seq=3))
    assert run(facts, OTHER, Audience.OPTINS).reason == Reason.UNPROVEN_ONLY
    ask = run(facts, MailClass.REPERMISSION, None)
    assert ask.allowed and ask.basis == Basis.UNPROVEN_CONSENT and ask.consent_seq == 3


def test_nobody_without_any_basis_is_asked_for_consent():
    assert run(ContactFacts(), MailClass.REPERMISSION, None).reason == Reason.NOT_UNPROVEN
    assert (
        run(ContactFacts(consent=consent()), MailClass.REPERMISSION, None).reason
        == Reason.NOT_UNPROVEN
    )


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"hard_bounced": True}, Reason.HARD_BOUNCED),
        ({"complained_at": T0}, Reason.COMPLAINED),
        ({"suppressed_at": T0}, Reason.SUPPRESSED),
    ],
)
def test_always_excluded_whatever_the_audience(extra, reason):
    facts = customer(consent=consent(confirmed=T0 - timedelta(days=1)), **extra)
    for audience in Audience:
        assert run(facts, SIMILAR, audience).reason == reason
    assert run(facts, OTHER, Audience.OPTINS).reason == reason


def test_suppressed_address_needs_a_new_double_opt_in():
    later = T0 + timedelta(days=5)
    unconfirmed = ContactFacts(consent=consent(at=later), suppressed_at=T0)
    assert run(unconfirmed, OTHER, Audience.OPTINS).reason == Reason.SUPPRESSED
    confirmed = ContactFacts(consent=consent(at=later, confirmed=later), suppressed_at=T0)
    assert run(confirmed, OTHER, Audience.OPTINS).basis == Basis.CONSENT
    # A re-imported customer stays out of the soft opt-in.
    assert run(customer(suppressed_at=T0), SIMILAR, Audience.CUSTOMERS).reason == Reason.SUPPRESSED


def test_service_mail_needs_no_marketing_basis_but_not_to_a_dead_address():
    objector = ContactFacts(objected_at=T0, consent=consent(ConsentStatus.WITHDRAWN))
    decision = run(objector, MailClass.SERVICE, None)
    assert decision.allowed and decision.basis == Basis.SERVICE
    assert (
        run(ContactFacts(hard_bounced=True), MailClass.SERVICE, None).reason == Reason.HARD_BOUNCED
    )


# --- the state machine of one purpose ----------------------------------------


def replay(*steps):
    state = PurposeConsent()
    for seq, (kind, kwargs) in enumerate(steps, start=1):
        state = apply_event(state, kind, seq=seq, at=T0 + timedelta(minutes=seq), **kwargs)
    return state


def test_double_opt_in_is_pending_until_confirmed():
    state = replay((EventKind.GRANTED, {"needs_confirmation": True}))
    assert state.status == ConsentStatus.PENDING and state.grant_seq == 1
    state = replay(
        (EventKind.GRANTED, {"needs_confirmation": True}),
        (EventKind.CONFIRMED, {"confirms_seq": 1}),
    )
    assert state.status == ConsentStatus.GRANTED and state.confirmed_at is not None


def test_a_stale_confirmation_does_not_revive_a_withdrawal():
    state = replay(
        (EventKind.GRANTED, {"needs_confirmation": True}),
        (EventKind.WITHDRAWN, {}),
        (EventKind.CONFIRMED, {"confirms_seq": 1}),
    )
    assert state.status == ConsentStatus.WITHDRAWN


def test_a_confirmation_of_an_older_grant_is_ignored():
    state = replay(
        (EventKind.GRANTED, {"needs_confirmation": True}),
        (EventKind.GRANTED, {"needs_confirmation": True}),
        (EventKind.CONFIRMED, {"confirms_seq": 1}),
    )
    assert state.status == ConsentStatus.PENDING and state.grant_seq == 2


def test_an_old_list_never_revives_a_withdrawal_or_weakens_consent():
    assert (
        replay((EventKind.WITHDRAWN, {}), (EventKind.UNPROVEN, {})).status
        == ConsentStatus.WITHDRAWN
    )
    granted = replay((EventKind.GRANTED, {}), (EventKind.UNPROVEN, {}))
    assert granted.status == ConsentStatus.GRANTED and granted.grant_seq == 1


@given(st.dates(min_value=date(1900, 3, 1), max_value=date(2100, 1, 1)), st.integers(0, 240))
def test_months_before_moves_back_whole_months(day, months):
    earlier = months_before(day, months)
    assert (day.year * 12 + day.month) - (earlier.year * 12 + earlier.month) == months
    assert earlier.day <= day.day
    assert earlier.day == day.day or (earlier + timedelta(days=1)).month != earlier.month


# --- the time-ordered folds --------------------------------------------------


def entry(seq, kind, days, **extra):
    return LedgerEntry(seq, kind, T0 + timedelta(days=days), **extra)


def test_a_grant_reported_late_does_not_undo_a_later_withdrawal():
    # Arrival order: grant, withdrawal, then a grant dated a year before both.
    state = fold_purpose(
        [
            entry(1, EventKind.GRANTED, 365),
            entry(2, EventKind.WITHDRAWN, 365),
            entry(3, EventKind.GRANTED, 0),
        ]
    )
    assert state.status == ConsentStatus.WITHDRAWN and state.last_seq == 2


def test_equal_times_count_in_ledger_order():
    at_once = [entry(1, EventKind.GRANTED, 1), entry(2, EventKind.WITHDRAWN, 1)]
    assert fold_purpose(at_once).status == ConsentStatus.WITHDRAWN
    reverse = [entry(1, EventKind.WITHDRAWN, 1), entry(2, EventKind.GRANTED, 1)]
    assert fold_purpose(reverse).status == ConsentStatus.GRANTED


def test_an_expired_grant_counts_as_if_it_never_happened():
    before = [entry(1, EventKind.GRANTED, 0)]
    expired = [
        *before,
        entry(2, EventKind.GRANTED, 1, needs_confirmation=True),
        entry(3, EventKind.EXPIRED, 5, confirms_seq=2),
    ]
    state = fold_purpose(expired)
    assert state.status == ConsentStatus.GRANTED and state.grant_seq == 1
    assert fold_purpose(
        [
            entry(1, EventKind.GRANTED, 0, needs_confirmation=True),
            entry(2, EventKind.EXPIRED, 3, confirms_seq=1),
        ]
    ).status == (ConsentStatus.NONE)


def test_a_complaint_withdraws_at_its_time():
    state = fold_purpose([entry(1, EventKind.GRANTED, 0), entry(2, EventKind.COMPLAINED, 3)])
    assert state.status == ConsentStatus.WITHDRAWN
    later = fold_purpose([entry(1, EventKind.GRANTED, 5), entry(2, EventKind.COMPLAINED, 3)])
    assert later.status == ConsentStatus.GRANTED
    # An old list never revives the withdrawal the complaint made.
    old_list = fold_purpose([entry(1, EventKind.COMPLAINED, 3), entry(2, EventKind.UNPROVEN, 4)])
    assert old_list.status == ConsentStatus.WITHDRAWN


def test_a_confirmation_keeps_the_time_of_its_grant():
    state = fold_purpose(
        [
            entry(1, EventKind.GRANTED, 0, needs_confirmation=True),
            entry(2, EventKind.CONFIRMED, 2, confirms_seq=1),
        ]
    )
    assert state.granted_at == T0 and state.confirmed_at == T0 + timedelta(days=2)


def test_standing_follows_the_time_objections_happened():
    lifted = fold_standing(
        [entry(2, EventKind.OBJECTION_LIFTED, 5), entry(1, EventKind.OBJECTED, 1)]
    )
    assert lifted == Standing(None, True, None)
    # A lifting dated before the objection lifts nothing.
    in_force = fold_standing(
        [entry(1, EventKind.OBJECTED, 5), entry(2, EventKind.OBJECTION_LIFTED, 1)]
    )
    assert in_force == Standing(T0 + timedelta(days=5), True, None)
    complained = fold_standing(
        [entry(1, EventKind.COMPLAINED, 4), entry(2, EventKind.COMPLAINED, 2)]
    )
    assert complained.complained_at == T0 + timedelta(days=4) and not complained.has_objected


events_in_any_order = st.lists(
    st.tuples(
        st.sampled_from(
            [EventKind.GRANTED, EventKind.CONFIRMED, EventKind.WITHDRAWN, EventKind.UNPROVEN]
        ),
        st.integers(0, 5),
        st.booleans(),
    ),
    max_size=8,
)


@given(events_in_any_order, st.randoms())
def test_the_fold_does_not_depend_on_arrival_order(steps, random):
    entries = [
        entry(seq, kind, days, needs_confirmation=double)
        for seq, (kind, days, double) in enumerate(steps, start=1)
    ]
    shuffled = list(entries)
    random.shuffle(shuffled)
    assert fold_purpose(shuffled) == fold_purpose(entries)


def test_an_event_before_a_recorded_one_is_late():
    recorded = [entry(1, EventKind.GRANTED, 5)]
    assert is_late(entry(2, EventKind.WITHDRAWN, 1), recorded)
    assert not is_late(entry(2, EventKind.WITHDRAWN, 5), recorded)
