"""Consent a staff user records on behalf of a person: grant, withdrawal, objection."""

import pytest
from django.conf import settings

from akkoord.accounts.models import AuditAction, AuditEntry
from akkoord.consent.ledger import current_consent, record_event, verify_ledger
from akkoord.consent.models import ConsentEvent
from akkoord.consent.rules import ConsentStatus, EventKind


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 costs most of each test's time; these tests are not about passwords."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def speak(client, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return {"HTTP_ACCEPT_LANGUAGE": language}


@pytest.mark.parametrize(
    ("action", "nl", "en"),
    [
        ("grant", "Toestemming vastleggen", "Record consent"),
        ("withdraw", "intrekking", "withdrew consent"),
        ("object", "Bezwaar", "objection"),
    ],
)
def test_pages_render_in_dutch_and_english(marketer_client, contact, newsletter, action, nl, en):
    url = f"/consent/contacts/{contact.pk}/{action}/"
    assert nl in marketer_client.get(url, **speak(marketer_client, "nl")).content.decode()
    assert en in marketer_client.get(url, **speak(marketer_client, "en")).content.decode()


def test_staff_records_a_consent_given_by_phone(marketer_client, marketer, contact, newsletter):
    response = marketer_client.post(
        f"/consent/contacts/{contact.pk}/grant/",
        {
            "purpose": newsletter.pk,
            "text_language": "en",
            "how": "phone",
            "note": "call of 23 November",
            "text_agreed": "on",
        },
    )
    assert response.status_code == 302
    event = ConsentEvent.objects.get()
    assert event.kind == "granted"
    assert event.channel == "staff"
    assert event.channel_ref == f"user:{marketer.pk}"
    assert event.needs_confirmation is False
    proof = event.proof.data
    assert proof["staff_user"] == marketer.email
    assert proof["how"] == "phone"
    assert proof["text"] == newsletter.consent_text_en
    assert proof["note"] == "call of 23 November"
    assert current_consent(contact, newsletter).status == ConsentStatus.GRANTED
    assert AuditEntry.objects.filter(
        action=AuditAction.CHANGE, object_id=str(contact.pk), user=marketer
    ).exists()
    assert verify_ledger().ok
    page = marketer_client.get(f"/contacts/{contact.pk}/", **speak(marketer_client, "en"))
    assert "by phone" in page.content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"text_agreed": ""}, "text_agreed"),
        ({"how": "carrier pigeon"}, "how"),
        ({"purpose": "999999"}, "purpose"),
        ({"purpose": "abc"}, "purpose"),
        ({"text_language": "fr"}, "text_language"),
        ({"note": "n" * 501}, "note"),
    ],
)
def test_incomplete_grants_record_nothing(marketer_client, contact, newsletter, data, field):
    form = {
        "purpose": newsletter.pk,
        "text_language": "nl",
        "how": "in person",
        "text_agreed": "on",
        **data,
    }
    response = marketer_client.post(f"/consent/contacts/{contact.pk}/grant/", form)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert ConsentEvent.objects.count() == 0


def test_inactive_purposes_cannot_be_granted(marketer_client, contact, newsletter):
    newsletter.is_active = False
    newsletter.save()
    response = marketer_client.post(
        f"/consent/contacts/{contact.pk}/grant/",
        {"purpose": newsletter.pk, "text_language": "nl", "how": "phone", "text_agreed": "on"},
    )
    assert response.status_code == 200
    assert ConsentEvent.objects.count() == 0


def test_staff_records_a_withdrawal(
    marketer_client, marketer, contact, newsletter, product_updates
):
    record_event(contact, newsletter, EventKind.GRANTED, channel="form", needs_confirmation=False)
    url = f"/consent/contacts/{contact.pk}/withdraw/"
    form = marketer_client.get(url).context["form"]
    assert list(form.fields["purpose"].queryset) == [newsletter]
    response = marketer_client.post(url, {"purpose": newsletter.pk, "how": "in person"})
    assert response.status_code == 302
    event = ConsentEvent.objects.order_by("seq").last()
    assert (event.kind, event.channel, event.proof.data["staff_user"]) == (
        "withdrawn",
        "staff",
        marketer.email,
    )
    assert current_consent(contact, newsletter).status == ConsentStatus.WITHDRAWN


def test_withdrawing_a_purpose_without_consent_is_refused(
    marketer_client, contact, newsletter, product_updates
):
    response = marketer_client.post(
        f"/consent/contacts/{contact.pk}/withdraw/",
        {"purpose": product_updates.pk, "how": "phone"},
        **speak(marketer_client, "en"),
    )
    assert response.status_code == 200
    assert "no consent for that purpose" in " ".join(response.context["form"].errors["purpose"])
    assert ConsentEvent.objects.count() == 0


def test_staff_records_an_objection(marketer_client, contact, newsletter):
    url = f"/consent/contacts/{contact.pk}/object/"
    response = marketer_client.post(url, {"how": "phone"})
    assert response.status_code == 200
    assert ConsentEvent.objects.count() == 0
    response = marketer_client.post(url, {"how": "phone", "understood": "on"})
    assert response.status_code == 302
    event = ConsentEvent.objects.get()
    assert (event.kind, event.purpose) == ("objected", None)
    contact.refresh_from_db()
    assert contact.objected_at == event.occurred_at


@pytest.mark.parametrize("action", ["grant", "withdraw", "object"])
def test_dpo_may_not_record_consent(dpo_client, contact, newsletter, action):
    url = f"/consent/contacts/{contact.pk}/{action}/"
    assert dpo_client.get(url).status_code == 403
    data = {"purpose": newsletter.pk, "how": "phone", "text_agreed": "on", "understood": "on"}
    assert dpo_client.post(url, {**data, "text_language": "nl"}).status_code == 403
    assert ConsentEvent.objects.count() == 0


def test_unknown_contact_is_404(marketer_client, db):
    assert marketer_client.get("/consent/contacts/424242/grant/").status_code == 404
