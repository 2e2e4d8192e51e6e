"""A segment can only narrow a campaign's lawful audience, never widen it (property test).

Hypothesis generates segment definitions (AND/OR groups of every kind of
condition) over a population in every consent state; for each, the campaign's
recipients must be exactly its lawful audience intersected with the segment.
Runs on whichever database the suite runs on (SQLite and PostgreSQL).
"""

import random
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from akkoord.campaigns.audience import engine_args
from akkoord.campaigns.tests.conftest import make_population
from akkoord.consent import audiences
from akkoord.contacts.models import ProductCategory, Purchase
from akkoord.segments.conditions import matching_contacts
from akkoord.segments.models import Segment, Tag

TODAY = timezone.localdate()
DAYS = [(TODAY - timedelta(days=d)).isoformat() for d in (0, 60, 400, 2000)]


def conditions_for(purpose_id: int):
    text = st.fixed_dictionaries(
        {
            "field": st.sampled_from(["first_name", "email", "source_detail"]),
            "op": st.sampled_from(
                ["equals", "contains", "starts_with", "is_empty", "is_not_empty"]
            ),
            "value": st.sampled_from(["P1", "p2", "person3@example.org", "example"]),
        }
    )
    choice = st.one_of(
        st.fixed_dictionaries(
            {
                "field": st.just("language"),
                "op": st.sampled_from(["equals", "not_equals"]),
                "value": st.sampled_from(["nl", "en"]),
            }
        ),
        st.fixed_dictionaries(
            {
                "field": st.just("source_kind"),
                "op": st.sampled_from(["equals", "not_equals"]),
                "value": st.sampled_from(["staff", "import"]),
            }
        ),
    )
    tag = st.fixed_dictionaries(
        {
            "field": st.just("tag"),
            "op": st.sampled_from(["has", "has_not"]),
            "value": st.sampled_from(["fair", "vip"]),
        }
    )
    purchase = st.fixed_dictionaries(
        {
            "field": st.just("purchase"),
            "op": st.sampled_from(["has", "has_not"]),
            "value": st.fixed_dictionaries(
                {},
                optional={
                    "categories": st.lists(st.sampled_from(["bikes", "repairs"]), max_size=2),
                    "on_or_after": st.sampled_from(DAYS),
                    "before": st.sampled_from(DAYS),
                    "min_count": st.integers(1, 3),
                },
            ),
        }
    )
    consent = st.fixed_dictionaries(
        {
            "field": st.just("consent"),
            "op": st.sampled_from(["has", "has_not"]),
            "value": st.fixed_dictionaries(
                {
                    "purpose": st.just(purpose_id),
                    "status": st.sampled_from(["granted", "withdrawn", "pending"]),
                },
                optional={"granted_on_or_after": st.sampled_from(DAYS)},
            ),
        }
    )
    return st.one_of(text, choice, tag, purchase, consent)


def definitions(purpose_id: int):
    leaf = conditions_for(purpose_id)
    return st.recursive(
        st.fixed_dictionaries(
            {"match": st.sampled_from(["all", "any"]), "conditions": st.lists(leaf, max_size=3)}
        ),
        lambda children: st.fixed_dictionaries(
            {
                "match": st.sampled_from(["all", "any"]),
                "conditions": st.lists(st.one_of(leaf, children), max_size=3),
            }
        ),
        max_leaves=6,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("mail_class", "audience"),
    [
        ("marketing_similar", "customers"),
        ("marketing_similar", "customers_and_optins"),
        ("marketing_other", "optins"),
    ],
)
def test_a_segment_never_adds_anyone_outside_the_lawful_audience(
    newsletter, make_campaign, mail_class, audience
):
    people = make_population(newsletter, 50, seed=3)
    bikes = ProductCategory.objects.create(key="bikes", name_nl="Fietsen", name_en="Bikes")
    repairs = ProductCategory.objects.create(key="repairs", name_nl="Reparatie", name_en="Repairs")
    rng = random.Random(5)
    for purchase in Purchase.objects.all():
        purchase.category = rng.choice([bikes, repairs])
        purchase.save(update_fields=["category"])
    fair, vip = Tag.objects.create(name="fair"), Tag.objects.create(name="vip")
    fair.contacts.set(people[::3])
    vip.contacts.set(people[::4])
    campaign = make_campaign(newsletter, mail_class, audience)
    if mail_class == "marketing_similar":
        campaign.categories.set([bikes])
    lawful = set(audiences.lawful_recipients(**engine_args(campaign)).values_list("pk", flat=True))
    assert lawful, "the population must hold lawful recipients"
    segment = Segment.objects.create(
        name="generated", definition={"match": "all", "conditions": []}
    )
    checked = []

    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(definitions(newsletter.pk))
    def narrows(definition):
        segment.definition = definition
        segment.save()
        campaign.segment = segment
        in_segment = set(matching_contacts(definition).values_list("pk", flat=True))
        recipients = set(
            audiences.lawful_recipients(**engine_args(campaign)).values_list("pk", flat=True)
        )
        assert recipients <= lawful
        assert recipients == lawful & in_segment
        checked.append(len(in_segment))

    narrows()
    # The generated segments were neither all empty nor all everyone.
    assert any(0 < n < len(people) for n in checked)
