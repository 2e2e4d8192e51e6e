"""The contact list: search, filters, pagination, escaping, and a bounded number of queries."""

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from akkoord.consent.ledger import record_event
from akkoord.consent.rules import EventKind
from akkoord.contacts.models import Contact
from akkoord.contacts.services import record_purchase, register_contact


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 costs most of each test's time; these tests are not about passwords."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


URL = "/contacts/"


def speak(client, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return {"HTTP_ACCEPT_LANGUAGE": language}


def add(email, **data):
    source = data.pop("source", "staff")
    contact, _created = register_contact({"email": email, **data}, source_kind=source)
    return contact


def emails(response):
    return sorted(row["contact"].email for row in response.context["rows"])


def test_url_name_is_contacts_list():
    assert reverse("contacts:list") == URL


@pytest.mark.parametrize(
    ("language", "heading", "purpose"),
    [("nl", "Contacten", "Nieuwsbrief"), ("en", "Contacts", "Newsletter")],
)
def test_list_renders_in_dutch_and_english(
    dpo_client, dpo, contact, newsletter, language, heading, purpose
):
    dpo.language = language
    dpo.save()
    response = dpo_client.get(URL, **speak(dpo_client, language))
    assert response.status_code == 200
    assert f"<h1>{heading}</h1>" in response.content.decode()
    assert "jan.jansen@example.nl" in response.content.decode()
    assert f">{purpose}</option>" in response.content.decode()


def test_search_matches_email_name_and_organisation_case_insensitively(marketer_client):
    add("piet@bakkerij.nl", first_name="Piet", last_name="Bakker")
    add("anna@example.com", organisation_name="Zorggroep Oost")
    add("kees@example.org", first_name="Kees")
    assert emails(marketer_client.get(URL, {"q": "BAKKERIJ"})) == ["piet@bakkerij.nl"]
    assert emails(marketer_client.get(URL, {"q": "piet bakker"})) == ["piet@bakkerij.nl"]
    assert emails(marketer_client.get(URL, {"q": "zorggroep"})) == ["anna@example.com"]
    assert emails(marketer_client.get(URL, {"q": "kEEs"})) == ["kees@example.org"]
    assert emails(marketer_client.get(URL, {"q": "nobody-like-this"})) == []


def test_a_whole_address_finds_exactly_that_person_and_a_partial_one_searches(marketer_client):
    add("an@example.nl")
    add("jan@example.nl")
    add("anna@bücher.example")
    assert emails(marketer_client.get(URL, {"q": " An@Example.NL "})) == ["an@example.nl"]
    assert emails(marketer_client.get(URL, {"q": "an@example"})) == [
        "an@example.nl",
        "jan@example.nl",
    ]
    assert emails(marketer_client.get(URL, {"q": "anna@BÜCHER.example"})) == ["anna@bücher.example"]
    assert emails(marketer_client.get(URL, {"q": "@@not-an-address"})) == []


def test_consent_filters_per_purpose(marketer_client, newsletter, product_updates):
    granted = add("granted@example.com")
    pending = add("pending@example.com")
    unproven = add("unproven@example.com")
    withdrawn = add("withdrawn@example.com")
    add("none@example.com")
    other = add("other-purpose@example.com")
    record_event(granted, newsletter, EventKind.GRANTED, channel="staff", needs_confirmation=False)
    record_event(pending, newsletter, EventKind.GRANTED, channel="form", needs_confirmation=True)
    record_event(unproven, newsletter, EventKind.UNPROVEN, channel="import")
    record_event(
        withdrawn, newsletter, EventKind.GRANTED, channel="staff", needs_confirmation=False
    )
    record_event(withdrawn, newsletter, EventKind.WITHDRAWN, channel="unsubscribe")
    record_event(other, product_updates, EventKind.GRANTED, channel="staff")

    def with_state(state):
        return emails(marketer_client.get(URL, {"purpose": newsletter.pk, "state": state}))

    assert with_state("granted") == ["granted@example.com"]
    assert with_state("pending") == ["pending@example.com"]
    assert with_state("unproven") == ["unproven@example.com"]
    assert with_state("withdrawn") == ["withdrawn@example.com"]
    assert with_state("none") == ["none@example.com", "other-purpose@example.com"]
    assert emails(
        marketer_client.get(URL, {"purpose": product_updates.pk, "state": "granted"})
    ) == ["other-purpose@example.com"]


def test_consent_state_without_purpose_is_explained_not_applied(marketer_client, newsletter):
    add("a@example.com")
    response = marketer_client.get(URL, {"state": "granted"})
    assert response.status_code == 200
    assert response.context["form"].errors["purpose"]
    assert emails(response) == ["a@example.com"]


def test_customer_and_source_filters(marketer_client):
    customer = add("customer@example.com")
    record_purchase(
        customer, purchased_on=date.today(), description="Fiets", objection_offered=True
    )
    add("prospect@example.com", source="import")
    assert emails(marketer_client.get(URL, {"customer": "yes"})) == ["customer@example.com"]
    assert emails(marketer_client.get(URL, {"customer": "no"})) == ["prospect@example.com"]
    assert emails(marketer_client.get(URL, {"source": "import"})) == ["prospect@example.com"]
    assert emails(marketer_client.get(URL, {"source": "staff", "customer": "no"})) == []


def test_nonsense_filter_values_do_not_break_the_page(marketer_client, contact):
    response = marketer_client.get(
        URL, {"purpose": "x'; drop", "state": "maybe", "customer": "?", "page": "-3"}
    )
    assert response.status_code == 200
    assert emails(response) == ["jan.jansen@example.nl"]


def test_fifty_per_page_newest_first_with_a_fixed_number_of_queries(
    marketer_client, newsletter, django_assert_max_num_queries
):
    start = timezone.now() - timedelta(days=1)
    Contact.objects.bulk_create(
        Contact(
            email=f"p{i:03d}@example.com",
            email_hash=f"{i:064d}",
            source_kind="import",
            created_at=start + timedelta(minutes=i),
        )
        for i in range(120)
    )
    with django_assert_max_num_queries(14):
        first = marketer_client.get(URL)
    assert len(first.context["rows"]) == 50
    assert first.context["rows"][0]["contact"].email == "p119@example.com"
    assert first.context["page"].paginator.count == 120
    last = marketer_client.get(URL, {"page": 3})
    assert [r["contact"].email for r in last.context["rows"]][-1] == "p000@example.com"
    assert len(last.context["rows"]) == 20


def test_page_links_keep_the_filters(marketer_client):
    Contact.objects.bulk_create(
        Contact(email=f"q{i}@example.com", email_hash=f"{i:064d}", source_kind="import")
        for i in range(60)
    )
    html = marketer_client.get(URL, {"source": "import"}).content.decode()
    assert "source=import&amp;page=2" in html


def test_markup_in_names_is_escaped_in_the_list(marketer_client):
    add("x@example.com", first_name="<script>alert(1)</script>", organisation_name="<b>Bold</b>")
    html = marketer_client.get(URL).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;Bold&lt;/b&gt;" in html


def test_signed_out_visitors_do_not_see_the_list(client, contact):
    response = client.get(URL)
    assert response.status_code in (302, 403)
    assert b"jan.jansen" not in response.content
