"""Settings screens: administrators change, marketers and the DPO only read; all audited."""

import pytest
from django.conf import settings
from django.urls import reverse

from akkoord.accounts.models import AuditAction, AuditEntry
from akkoord.consent.models import Purpose
from akkoord.contacts.models import ContactField, ContactFieldValue
from akkoord.organisation.models import Organisation


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 costs most of each test's time; these tests are not about passwords."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def speak(client, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return {"HTTP_ACCEPT_LANGUAGE": language}


def organisation_form(**overrides):
    return {
        "name": "Fietsenwinkel De Spaak",
        "address": "Dorpsstraat 1\n1234 AB Ergens",
        "contact_email": "privacy@despaak.nl",
        "phone": "",
        "website": "https://despaak.nl",
        "chamber_of_commerce": "12345678",
        "default_language": "nl",
        "form_of_address_nl": "u",
        "customer_relationship_months": "12",
        "privacy_statement_url": "",
        "centre_link_days": "21",
        "dpo_name": "",
        "dpo_email": "",
        "dpo_advice_threshold": "10000",
        **overrides,
    }


def purpose_form(**overrides):
    return {
        "key": "events",
        "name_nl": "Evenementen",
        "name_en": "Events",
        "consent_text_nl": "Ja, nodig mij uit.",
        "consent_text_en": "Yes, invite me.",
        "is_marketing": "on",
        "double_opt_in": "on",
        "retention_days": "365",
        "retention_reason_nl": "",
        "retention_reason_en": "",
        "is_active": "on",
        "position": "3",
        **overrides,
    }


def field_form(**overrides):
    return {
        "key": "city",
        "label_nl": "Woonplaats",
        "label_en": "City",
        "kind": "text",
        "category": "contact",
        "max_length": "80",
        "editable_by_contact": "on",
        "is_active": "on",
        "position": "0",
        **overrides,
    }


@pytest.mark.parametrize(
    ("path", "nl", "en"),
    [
        ("/settings/", "Instellingen", "Settings"),
        ("/settings/purposes/", "Doelen", "Purposes"),
        ("/settings/fields/", "Contactvelden", "Contact fields"),
    ],
)
def test_settings_pages_render_in_both_languages(dpo_client, newsletter, path, nl, en):
    assert nl in dpo_client.get(path, **speak(dpo_client, "nl")).content.decode()
    assert en in dpo_client.get(path, **speak(dpo_client, "en")).content.decode()


def test_administrator_changes_the_organisation(admin_client, admin):
    response = admin_client.post("/settings/", organisation_form())
    assert response.status_code == 302
    organisation = Organisation.current()
    assert organisation.name == "Fietsenwinkel De Spaak"
    assert organisation.customer_relationship_months == 12
    entry = AuditEntry.objects.get(action=AuditAction.SETTINGS, user=admin)
    assert entry.object_type == "organisation"
    assert "customer_relationship_months" in entry.detail


def test_administrator_chooses_how_dutch_addresses_people(admin_client, admin):
    page = admin_client.get("/settings/", **speak(admin_client, "nl")).content.decode()
    assert "Aanspreekvorm in het Nederlands" in page
    assert "“u” (formeel)" in page and "“je” (informeel)" in page
    english = admin_client.get("/settings/", **speak(admin_client, "en")).content.decode()
    assert "Form of address in Dutch" in english and "“je” (informal)" in english

    response = admin_client.post("/settings/", organisation_form(form_of_address_nl="je"))
    assert response.status_code == 302
    assert Organisation.current().form_of_address_nl == "je"
    entry = AuditEntry.objects.get(action=AuditAction.SETTINGS, user=admin)
    assert "form_of_address_nl" in entry.detail
    # The next Dutch page already says "je".
    page = admin_client.get(reverse("accounts:account"), **speak(admin_client, "nl"))
    assert "<h1>Je account</h1>" in page.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"customer_relationship_months": "0"}, "customer_relationship_months"),
        ({"customer_relationship_months": "twelve"}, "customer_relationship_months"),
        ({"contact_email": "nope"}, "contact_email"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"name": "n" * 201}, "name"),
        ({"name": ""}, "name"),
        ({"form_of_address_nl": "jij"}, "form_of_address_nl"),
        ({"form_of_address_nl": ""}, "form_of_address_nl"),
    ],
)
def test_bad_organisation_settings_are_refused(admin_client, overrides, field):
    before = Organisation.current().name
    response = admin_client.post("/settings/", organisation_form(**overrides))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert Organisation.current().name == before
    assert not AuditEntry.objects.filter(action=AuditAction.SETTINGS).exists()


@pytest.mark.parametrize("client_name", ["marketer_client", "dpo_client"])
def test_others_read_but_may_not_change_settings(request, client_name, newsletter):
    client = request.getfixturevalue(client_name)
    page = client.get("/settings/")
    assert page.status_code == 200
    assert page.context["read_only"]
    assert "disabled" in page.content.decode()
    assert client.post("/settings/", organisation_form()).status_code == 403
    assert client.get("/settings/purposes/new/").status_code == 403
    assert client.post("/settings/purposes/new/", purpose_form()).status_code == 403
    assert client.post(f"/settings/purposes/{newsletter.pk}/", purpose_form()).status_code == 403
    assert client.get("/settings/fields/new/").status_code == 403
    assert client.post("/settings/fields/new/", field_form()).status_code == 403
    assert Organisation.current().name != "Fietsenwinkel De Spaak"
    assert not Purpose.objects.filter(key="events").exists()
    assert not ContactField.objects.exists()


def test_administrator_creates_and_edits_a_purpose(admin_client, admin):
    assert admin_client.post("/settings/purposes/new/", purpose_form()).status_code == 302
    purpose = Purpose.objects.get(key="events")
    assert purpose.double_opt_in and purpose.is_marketing
    response = admin_client.post(
        f"/settings/purposes/{purpose.pk}/",
        purpose_form(key="renamed", name_en="Events and fairs", is_active="", double_opt_in=""),
    )
    assert response.status_code == 302
    purpose.refresh_from_db()
    assert purpose.key == "events"  # the key never changes
    assert purpose.name_en == "Events and fairs"
    assert not purpose.is_active and not purpose.double_opt_in
    assert (
        AuditEntry.objects.filter(action=AuditAction.SETTINGS, object_type="purpose").count() == 2
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"key": "nieuwsbrief"}, "key"),
        ({"key": "has spaces"}, "key"),
        ({"name_nl": ""}, "name_nl"),
        ({"consent_text_en": "t" * 1001}, "consent_text_en"),
        ({"retention_days": "0"}, "retention_days"),
        ({"retention_days": "-5"}, "retention_days"),
        ({"retention_days": "many"}, "retention_days"),
    ],
)
def test_bad_purposes_are_refused(admin_client, newsletter, overrides, field):
    response = admin_client.post("/settings/purposes/new/", purpose_form(**overrides))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert Purpose.objects.count() == 1


def test_purpose_names_with_markup_are_escaped(admin_client):
    admin_client.post("/settings/purposes/new/", purpose_form(name_en="<script>x</script>"))
    html = admin_client.get("/settings/purposes/", **speak(admin_client, "en")).content.decode()
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html


def test_administrator_creates_and_edits_a_contact_field(admin_client, contact):
    assert admin_client.post("/settings/fields/new/", field_form()).status_code == 302
    field = ContactField.objects.get(key="city")
    assert (field.category, field.max_length) == ("contact", 80)
    ContactFieldValue.objects.create(contact=contact, field=field, value="Utrecht")
    response = admin_client.post(
        f"/settings/fields/{field.pk}/", field_form(kind="number", label_en="Town", is_active="")
    )
    assert response.status_code == 302
    field.refresh_from_db()
    assert field.kind == "text"  # it already holds values
    assert field.label_en == "Town" and not field.is_active
    assert (
        AuditEntry.objects.filter(action=AuditAction.SETTINGS, object_type="contactfield").count()
        == 2
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"key": "email"}, "key"),
        ({"category": "secrets"}, "category"),
        ({"kind": "blob"}, "kind"),
        ({"max_length": "0"}, "max_length"),
        ({"max_length": "99999"}, "max_length"),
        ({"label_en": "l" * 101}, "label_en"),
    ],
)
def test_bad_contact_fields_are_refused(admin_client, overrides, field):
    response = admin_client.post("/settings/fields/new/", field_form(**overrides))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not ContactField.objects.exists()
