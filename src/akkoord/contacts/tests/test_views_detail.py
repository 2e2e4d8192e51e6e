"""The contact page: data, proof in plain words, "may I mail?", timeline, panels, audit."""

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from akkoord.accounts.models import AuditAction, AuditEntry
from akkoord.consent.ledger import record_event
from akkoord.consent.models import ConsentProof
from akkoord.consent.rules import EventKind
from akkoord.contacts.models import ContactField, ContactFieldValue
from akkoord.contacts.services import record_purchase
from akkoord.lib import panels


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 costs most of each test's time; these tests are not about passwords."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def url(contact):
    return f"/contacts/{contact.pk}/"


def speak(client, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return {"HTTP_ACCEPT_LANGUAGE": language}


def answers(response, purpose):
    table = next(
        t for t in response.context["answers"]["purposes"] if t["purpose"].pk == purpose.pk
    )
    return {(a["mail_class_key"], a["audience_key"]): a for a in table["answers"]}


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("nl", ["Klantrelatie", "Mag ik deze persoon mailen?", "Tijdlijn", "Nieuwsbrief"]),
        ("en", ["Customer relationship", "May I mail this person?", "Timeline", "Newsletter"]),
    ],
)
def test_page_renders_in_dutch_and_english(dpo_client, dpo, contact, newsletter, language, words):
    dpo.language = language
    dpo.save()
    html = dpo_client.get(url(contact), **speak(dpo_client, language)).content.decode()
    for word in words:
        assert word in html


def test_every_view_is_audited(dpo_client, dpo, contact):
    dpo_client.get(url(contact))
    dpo_client.get(url(contact))
    entries = AuditEntry.objects.filter(
        action=AuditAction.VIEW, object_type="contact", object_id=str(contact.pk), user=dpo
    )
    assert entries.count() == 2


def test_unknown_contact_is_404(dpo_client, db):
    assert dpo_client.get("/contacts/999999/").status_code == 404


def test_configured_fields_show_with_labels_in_the_current_language(marketer_client, contact):
    field = ContactField.objects.create(
        key="city", label_nl="Woonplaats", label_en="City", category="contact"
    )
    ContactFieldValue.objects.create(contact=contact, field=field, value="Utrecht")
    nl = marketer_client.get(url(contact), **speak(marketer_client, "nl")).content.decode()
    assert "Woonplaats" in nl and "Utrecht" in nl
    en = marketer_client.get(url(contact), **speak(marketer_client, "en")).content.decode()
    assert "City" in en


def test_proof_is_shown_in_plain_words(marketer_client, contact, newsletter):
    grant = record_event(
        contact,
        newsletter,
        EventKind.GRANTED,
        channel="form",
        channel_ref="form:7",
        proof={
            "ip": "203.0.113.9",
            "user_agent": "Firefox/140 <img>",
            "text": "Yes, send me the monthly newsletter.",
            "form_version": "3",
        },
        privacy_statement_version="2026-01",
        needs_confirmation=True,
    )
    record_event(
        contact,
        newsletter,
        EventKind.CONFIRMED,
        channel="form",
        confirms_seq=grant.seq,
        proof={"ip": "198.51.100.4"},
    )
    html = marketer_client.get(url(contact), **speak(marketer_client, "en")).content.decode()
    for expected in [
        "IP address",
        "203.0.113.9",
        "Browser (user agent)",
        "Firefox/140 &lt;img&gt;",
        "Exact text shown",
        "Yes, send me the monthly newsletter.",
        "Form version",
        "Privacy statement version",
        "2026-01",
        "Confirmed",
        "198.51.100.4",
        "consent confirmed (double opt-in)",
    ]:
        assert expected in html, expected
    assert "nonce" not in html


def test_erased_proof_is_said_not_hidden(marketer_client, contact, newsletter):
    event = record_event(contact, newsletter, EventKind.GRANTED, channel="staff")
    ConsentProof.objects.filter(event=event).delete()
    html = marketer_client.get(url(contact), **speak(marketer_client, "en")).content.decode()
    assert "The proof was erased" in html


def test_may_i_mail_for_a_customer(marketer_client, contact, newsletter):
    record_purchase(
        contact,
        purchased_on=timezone.localdate() - timedelta(days=30),
        description="Fiets",
        objection_offered=True,
    )
    table = answers(marketer_client.get(url(contact)), newsletter)
    assert table[("marketing_similar", "customers")]["allowed"]
    assert table[("marketing_similar", "customers")]["reason"] == "ok_customer"
    assert table[("marketing_similar", "customers_and_optins")]["allowed"]
    assert not table[("marketing_similar", "optins")]["allowed"]
    assert table[("marketing_other", "optins")]["reason"] == "no_consent"
    assert table[("marketing_other", "customers")]["reason"] == "audience_not_for_class"
    assert not table[("repermission", "")]["allowed"]


def test_may_i_mail_for_a_customer_not_offered_the_chance_to_object(
    marketer_client, contact, newsletter
):
    record_purchase(
        contact, purchased_on=date.today(), description="Fiets", objection_offered=False
    )
    table = answers(marketer_client.get(url(contact)), newsletter)
    assert table[("marketing_similar", "customers")]["reason"] == "objection_not_offered"


def test_may_i_mail_for_an_opt_in(marketer_client, contact, newsletter):
    event = record_event(
        contact, newsletter, EventKind.GRANTED, channel="staff", needs_confirmation=False
    )
    response = marketer_client.get(url(contact), **speak(marketer_client, "en"))
    table = answers(response, newsletter)
    assert table[("marketing_other", "optins")]["allowed"]
    assert table[("marketing_other", "optins")]["consent_seq"] == event.seq
    assert table[("marketing_similar", "customers_and_optins")]["reason"] == "ok_consent"
    assert table[("marketing_similar", "customers")]["reason"] == "not_customer"
    html = response.content.decode()
    assert "Allowed: the person gave consent for this purpose." in html


def test_may_i_mail_for_an_objector(marketer_client, contact, newsletter):
    record_event(contact, newsletter, EventKind.GRANTED, channel="staff", needs_confirmation=False)
    record_purchase(contact, purchased_on=date.today(), description="Fiets", objection_offered=True)
    record_event(contact, None, EventKind.OBJECTED, channel="centre")
    response = marketer_client.get(url(contact), **speak(marketer_client, "nl"))
    table = answers(response, newsletter)
    for key, answer in table.items():
        assert not answer["allowed"], key
    assert table[("marketing_similar", "customers")]["reason"] == "objected"
    assert table[("marketing_other", "optins")]["reason"] == "objected"
    assert response.context["answers"]["service"]["allowed"]
    assert "Niet toegestaan" in response.content.decode()


def test_pending_double_opt_in_is_not_a_basis(marketer_client, contact, newsletter):
    record_event(contact, newsletter, EventKind.GRANTED, channel="form", needs_confirmation=True)
    table = answers(marketer_client.get(url(contact)), newsletter)
    assert table[("marketing_other", "optins")]["reason"] == "pending_confirmation"


def test_service_purposes_get_no_marketing_table(marketer_client, contact, newsletter):
    newsletter.is_marketing = False
    newsletter.save()
    response = marketer_client.get(url(contact))
    assert response.context["answers"]["purposes"] == []


def test_sections_from_other_apps_are_rendered(marketer_client, contact, monkeypatch):
    def section(request, person):
        return ("front/_settings_nav.html", {"section": "x"}) if person == contact else None

    monkeypatch.setattr(panels.contact_page, "_panels", [section])
    html = marketer_client.get(url(contact)).content.decode()
    assert 'href="/settings/purposes/"' in html


def test_timeline_and_purchases_are_shown(marketer_client, contact):
    record_purchase(
        contact,
        purchased_on=date(2026, 3, 1),
        description="Racefiets <em>X</em>",
        objection_offered=True,
    )
    html = marketer_client.get(url(contact), **speak(marketer_client, "en")).content.decode()
    assert "Racefiets &lt;em&gt;X&lt;/em&gt;" in html
    assert "Purchase on March 1, 2026" in html
    assert "Registered" in html


def test_dpo_sees_no_change_buttons(dpo_client, contact):
    html = dpo_client.get(url(contact)).content.decode()
    assert f"/contacts/{contact.pk}/edit/" not in html
