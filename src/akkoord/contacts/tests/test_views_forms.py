"""Adding and editing contacts and recording purchases: validation, atomicity, roles, audit."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from akkoord.accounts.models import AuditAction, AuditEntry
from akkoord.contacts.models import Activity, Contact, ContactField, ContactFieldValue, Purchase


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 costs most of each test's time; these tests are not about passwords."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


NEW = "/contacts/new/"


def speak(client, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return {"HTTP_ACCEPT_LANGUAGE": language}


def person(**overrides):
    return {
        "email": "Piet.Puk@Example.COM",
        "first_name": "Piet",
        "last_name": "Puk",
        "organisation_name": "Puk BV",
        "language": "nl",
        **overrides,
    }


@pytest.fixture
def birthday(db):
    return ContactField.objects.create(
        key="birthday",
        label_nl="Geboortedatum",
        label_en="Date of birth",
        kind="date",
        category="demographic",
    )


@pytest.mark.parametrize(("language", "word"), [("nl", "Voornaam"), ("en", "First name")])
def test_add_page_renders_in_both_languages(marketer_client, language, word):
    response = marketer_client.get(NEW, **speak(marketer_client, language))
    assert response.status_code == 200
    assert word in response.content.decode()


def test_staff_adds_a_contact(marketer_client, marketer, birthday):
    response = marketer_client.post(NEW, person(field_birthday="1980-02-29"))
    contact = Contact.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/contacts/{contact.pk}/"
    assert contact.email == "piet.puk@example.com"
    assert contact.source_kind == "staff"
    assert ContactFieldValue.objects.get(contact=contact).value == "1980-02-29"
    assert Activity.objects.get(contact=contact, kind="created").actor == marketer.email
    assert AuditEntry.objects.filter(
        action=AuditAction.CREATE, object_id=str(contact.pk), user=marketer
    ).exists()


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"email": "not-an-address"}, "email", "not a valid e-mail address"),
        ({"email": ""}, "email", "required"),
        ({"first_name": "x" * 101}, "first_name", "at most 100 characters"),
        ({"organisation_name": "y" * 201}, "organisation_name", "at most 200 characters"),
        ({"last_name": "Puk\x07"}, "last_name", "control characters"),
        ({"language": "de"}, "language", "valid choice"),
        ({"field_birthday": "yesterday"}, "field_birthday", "YYYY-MM-DD"),
    ],
)
def test_bad_input_gives_clear_errors_and_saves_nothing(
    marketer_client, birthday, overrides, field, fragment
):
    response = marketer_client.post(NEW, person(**overrides), **speak(marketer_client, "en"))
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors[field])
    assert fragment in errors
    assert Contact.objects.count() == 0
    assert Activity.objects.count() == 0
    assert not AuditEntry.objects.filter(action=AuditAction.CREATE).exists()


def test_duplicate_address_is_refused(marketer_client, contact):
    response = marketer_client.post(
        NEW, person(email="JAN.JANSEN@example.nl"), **speak(marketer_client, "en")
    )
    assert response.status_code == 200
    assert "already exists" in " ".join(response.context["form"].errors["email"])
    assert Contact.objects.count() == 1


def test_markup_in_names_is_shown_escaped(marketer_client):
    marketer_client.post(NEW, person(first_name='<script>alert("x")</script>', last_name="<i>"))
    contact = Contact.objects.get()
    html = marketer_client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "<i>" not in html.split("<main", 1)[1]


def test_edit_changes_are_saved_with_timeline_and_audit(marketer_client, marketer, contact):
    url = f"/contacts/{contact.pk}/edit/"
    assert marketer_client.get(url).status_code == 200
    response = marketer_client.post(
        url, person(email="jan@example.nl", first_name="Johannes", last_name="Jansen")
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.email, contact.first_name) == ("jan@example.nl", "Johannes")
    change = Activity.objects.get(contact=contact, kind="changed")
    assert change.data["changes"]["first_name"] == ["Jan", "Johannes"]
    assert AuditEntry.objects.filter(
        action=AuditAction.CHANGE, object_id=str(contact.pk), user=marketer
    ).exists()


def test_edit_to_an_address_already_in_use_changes_nothing(marketer_client, contact):
    other = Contact.objects.create(email="other@example.com", email_hash="h", source_kind="api")
    response = marketer_client.post(
        f"/contacts/{other.pk}/edit/",
        person(email="jan.jansen@example.nl", first_name="Changed"),
        **speak(marketer_client, "en"),
    )
    assert response.status_code == 200
    assert "already exists" in " ".join(response.context["form"].errors["email"])
    other.refresh_from_db()
    assert (other.email, other.first_name) == ("other@example.com", "")
    assert not Activity.objects.filter(contact=other, kind="changed").exists()


def test_edit_with_a_bad_field_value_saves_no_other_change(marketer_client, contact, birthday):
    response = marketer_client.post(
        f"/contacts/{contact.pk}/edit/",
        person(email=contact.email, first_name="Other", field_birthday="31-31-2000"),
    )
    assert response.status_code == 200
    contact.refresh_from_db()
    assert contact.first_name == "Jan"


def test_record_a_purchase(marketer_client, marketer, contact):
    url = f"/contacts/{contact.pk}/purchases/new/"
    assert marketer_client.get(url).status_code == 200
    day = timezone.localdate() - timedelta(days=3)
    response = marketer_client.post(
        url,
        {
            "purchased_on": day.isoformat(),
            "description": "Racefiets",
            "reference": "ORD-1",
            "objection_offered": "on",
        },
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.last_purchase_on == day
    assert contact.objection_offered_at_sale is True
    purchase = Purchase.objects.get()
    assert purchase.recorded_by == marketer
    assert AuditEntry.objects.filter(action=AuditAction.CHANGE, object_id=str(contact.pk)).exists()


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        ({"purchased_on": "2999-01-01"}, "purchased_on", "cannot be in the future"),
        ({"purchased_on": "gisteren"}, "purchased_on", "valid date"),
        ({"description": ""}, "description", "required"),
        ({"description": "z" * 201}, "description", "at most 200 characters"),
        ({"reference": "r" * 101}, "reference", "at most 100 characters"),
    ],
)
def test_bad_purchases_are_refused(marketer_client, contact, data, field, fragment):
    form = {"purchased_on": "2026-01-05", "description": "Fiets", **data}
    response = marketer_client.post(
        f"/contacts/{contact.pk}/purchases/new/", form, **speak(marketer_client, "en")
    )
    assert response.status_code == 200
    assert fragment in " ".join(response.context["form"].errors[field])
    assert Purchase.objects.count() == 0
    contact.refresh_from_db()
    assert contact.last_purchase_on is None


def test_without_the_checkbox_the_sale_offered_no_objection(marketer_client, contact):
    marketer_client.post(
        f"/contacts/{contact.pk}/purchases/new/",
        {"purchased_on": "2026-01-05", "description": "Fiets"},
    )
    contact.refresh_from_db()
    assert contact.last_purchase_on is not None
    assert contact.objection_offered_at_sale is False


@pytest.mark.parametrize(
    "path", ["/contacts/new/", "/contacts/{pk}/edit/", "/contacts/{pk}/purchases/new/"]
)
def test_dpo_may_not_change_contacts(dpo_client, contact, path):
    url = path.format(pk=contact.pk)
    assert dpo_client.get(url).status_code == 403
    assert dpo_client.post(url, person(email="new@example.com")).status_code == 403
    assert Contact.objects.count() == 1
    assert Purchase.objects.count() == 0
