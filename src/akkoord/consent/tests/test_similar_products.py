"""The soft opt-in covers only products similar to what the person bought (DOMAIN §3).

Pure: no database. A similar-products campaign names its categories (already
expanded with the categories similar to them); only a purchase in one of them
within the customer period carries the customer basis, and the decision names it.
"""

from datetime import UTC, date, datetime, timedelta

from akkoord.consent.rules import (
    Audience,
    Basis,
    ConsentStatus,
    ContactFacts,
    MailClass,
    PurchaseFact,
    PurposeConsent,
    Reason,
    customer_cutoff,
    decide,
)

TODAY = date(2026, 11, 23)
MONTHS = 24
CUTOFF = customer_cutoff(TODAY, MONTHS)
BIKES = frozenset({"bicycles", "ebikes"})


def customer(*purchases: PurchaseFact, **extra) -> ContactFacts:
    facts = {
        "last_purchase_on": max(p.purchased_on for p in purchases),
        "objection_offered_at_sale": True,
        "purchases": purchases,
    }
    facts.update(extra)
    return ContactFacts(**facts)


def run(facts, audience=Audience.CUSTOMERS, categories=BIKES):
    return decide(
        facts,
        MailClass.MARKETING_SIMILAR,
        audience,
        today=TODAY,
        customer_months=MONTHS,
        similar_categories=categories,
    )


def test_a_customer_who_bought_only_a_repair_is_not_mailed_about_bicycles():
    decision = run(customer(PurchaseFact(1, TODAY - timedelta(days=10), "repairs")))
    assert not decision.allowed
    assert decision.reason == Reason.BOUGHT_UNRELATED


def test_a_similar_purchase_in_the_period_carries_the_basis_and_is_named():
    bike = PurchaseFact(2, TODAY - timedelta(days=100), "ebikes")
    repair = PurchaseFact(3, TODAY - timedelta(days=5), "repairs")
    decision = run(customer(bike, repair))
    assert decision.allowed and decision.basis == Basis.CUSTOMER
    assert decision.purchase_id == 2


def test_the_latest_similar_purchase_is_named_ties_by_the_later_record():
    day = TODAY - timedelta(days=3)
    decision = run(
        customer(
            PurchaseFact(4, day, "bicycles"),
            PurchaseFact(9, day, "ebikes"),
            PurchaseFact(5, day - timedelta(days=1), "bicycles"),
        )
    )
    assert decision.purchase_id == 9


def test_a_similar_purchase_before_the_period_does_not_count():
    old_bike = PurchaseFact(1, CUTOFF - timedelta(days=1), "bicycles")
    recent_repair = PurchaseFact(2, TODAY, "repairs")
    decision = run(customer(old_bike, recent_repair))
    assert decision.reason == Reason.BOUGHT_UNRELATED


def test_a_similar_purchase_on_the_cutoff_day_still_counts():
    decision = run(customer(PurchaseFact(1, CUTOFF, "bicycles")))
    assert decision.allowed and decision.purchase_id == 1


def test_an_expired_customer_is_told_expired_not_unrelated():
    decision = run(customer(PurchaseFact(1, CUTOFF - timedelta(days=1), "repairs")))
    assert decision.reason == Reason.CUSTOMER_EXPIRED


def test_customers_and_optins_still_reach_opt_ins_who_bought_unrelated_products():
    granted = PurposeConsent(ConsentStatus.GRANTED, 7, datetime(2026, 1, 1, tzinfo=UTC))
    facts = customer(PurchaseFact(1, TODAY, "repairs"), consent=granted)
    decision = run(facts, audience=Audience.CUSTOMERS_AND_OPTINS)
    assert decision.allowed and decision.basis == Basis.CONSENT and decision.consent_seq == 7


def test_customers_and_optins_without_consent_say_unrelated():
    decision = run(customer(PurchaseFact(1, TODAY, "repairs")), Audience.CUSTOMERS_AND_OPTINS)
    assert decision.reason == Reason.BOUGHT_UNRELATED


def test_an_objection_still_comes_before_the_category_question():
    facts = customer(PurchaseFact(1, TODAY, "bicycles"), has_objected=True)
    assert run(facts).reason == Reason.OBJECTED


def test_without_named_categories_any_purchase_in_the_period_carries_the_basis():
    decision = run(customer(PurchaseFact(1, TODAY, "repairs")), categories=None)
    assert decision.allowed and decision.purchase_id == 1


def test_opt_ins_only_ignore_categories():
    granted = PurposeConsent(ConsentStatus.GRANTED, 7, datetime(2026, 1, 1, tzinfo=UTC))
    facts = ContactFacts(consent=granted)
    assert run(facts, audience=Audience.OPTINS).allowed
