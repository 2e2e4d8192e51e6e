"""The person's pages: see (art. 15), correct (16), choose (7(3), 21), download (20)."""

import csv
import io
import json

import jsonschema_rs
import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from akkoord.centre.links import centre_token
from akkoord.centre.tests.helpers import SIGNUP_IP, signed_up
from akkoord.consent.audiences import facts_for
from akkoord.consent.ledger import current_consent
from akkoord.consent.models import ConsentEvent, ConsentProof
from akkoord.consent.rules import Audience, Basis, ConsentStatus, MailClass, Reason, decide
from akkoord.contacts.models import Activity, ActivityKind, ContactField
from akkoord.contacts.services import record_purchase, update_contact
from akkoord.mail.outgoing import send_service_mail


@pytest.fixture
def token(contact):
    return centre_token(contact)


def url(name, token, *args):
    return reverse(f"centre:{name}", args=[token, *args])


def test_the_page_shows_fields_source_consent_history_with_proof_and_mails(
    client, contact, token, newsletter
):
    signed_up(contact, newsletter)
    send_service_mail(to=contact.email, subject="Uw factuur 42", text="Factuur", contact=contact)
    Activity.objects.create(
        contact=contact,
        kind=ActivityKind.MAIL,
        summary="November news",
        data={"class": "marketing_other", "basis": "consent", "subject": "November news"},
    )
    response = client.get(url("home", token))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Jan" in page and "Jansen" in page
    assert "Ingevoerd door medewerker" in page or "Entered by staff" in page
    assert SIGNUP_IP in page
    assert "Ja, stuur mij de maandelijkse nieuwsbrief." in page
    assert "Uw factuur 42" in page and "November news" in page
    # The basis, in words (Dutch once the consent app's translations are in).
    assert "<td>toestemming</td>" in page or "<td>consent</td>" in page
    # Nothing from elsewhere, nothing inline (the CSP allows neither), no JavaScript needed.
    assert 'src="http' not in page and 'href="//' not in page
    assert "<script" not in page and 'style="' not in page


def test_the_page_is_in_the_persons_language_unless_they_chose(client, contact, token):
    contact.language = "en"
    contact.save()
    assert b"Your details" in client.get(url("home", token)).content
    client.cookies["django_language"] = "nl"
    assert b"Uw gegevens" in client.get(url("home", token)).content


def test_get_changes_nothing(client, contact, token, newsletter):
    signed_up(contact, newsletter)
    before = ConsentEvent.objects.count(), Activity.objects.count()
    client.get(url("home", token))
    client.get(url("erase", token))
    assert (ConsentEvent.objects.count(), Activity.objects.count()) == before


def test_correcting_records_old_and_new_value(client, contact, token):
    ContactField.objects.create(
        key="city", label_nl="Woonplaats", label_en="City", category="contact"
    )
    ContactField.objects.create(
        key="segment",
        label_nl="Segment",
        label_en="Segment",
        category="professional",
        editable_by_contact=False,
    )
    update_contact(contact, {"fields": {"city": "Utrecht", "segment": "B2C"}}, actor="test")
    page = client.get(url("correct", token)).content.decode()
    assert 'name="field_city"' in page and "segment" not in page
    response = client.post(
        url("correct", token),
        {"first_name": "Johannes", "last_name": "Jansen", "field_city": "Delft", "language": "nl"},
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.first_name == "Johannes"
    change = contact.activities.filter(kind=ActivityKind.CHANGED, data__via="centre").get()
    assert change.data["changes"]["first_name"] == ["Jan", "Johannes"]
    assert change.data["changes"]["fields.city"] == ["Utrecht", "Delft"]


def test_correcting_does_not_invite_data_the_organisation_does_not_hold(client, contact, token):
    """Data minimisation: the page offers what is held about the person, nothing more."""
    ContactField.objects.create(
        key="birthday", label_nl="Geboortedatum", label_en="Birthday", category="demographic"
    )
    page = client.get(url("correct", token)).content.decode()
    assert 'name="first_name"' in page  # held: Jan
    assert 'name="field_birthday"' not in page  # configured, but nothing held
    assert 'name="organisation_name"' not in page  # nothing held
    # Posting a field that is not offered adds nothing either.
    client.post(
        url("correct", token),
        {
            "first_name": "Jan",
            "last_name": "Jansen",
            "field_birthday": "1980-01-01",
            "organisation_name": "Jansen BV",
            "language": "nl",
        },
    )
    contact.refresh_from_db()
    assert contact.organisation_name == ""
    assert not contact.field_values.exists()


def test_bad_corrections_save_nothing_and_say_why(client, contact, token):
    response = client.post(
        url("correct", token),
        {"first_name": "Jo\x00hn", "last_name": "x" * 151, "language": "fr"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "errorlist" in page
    contact.refresh_from_db()
    assert contact.first_name == "Jan"
    assert not contact.activities.filter(kind=ActivityKind.CHANGED).exists()


def test_subscribing_records_a_confirmed_grant_with_proof(client, contact, token, newsletter):
    response = client.post(
        url("choose", token),
        {"action": "subscribe", "purpose": newsletter.key},
        HTTP_USER_AGENT="TestBrowser/1.0",
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 302
    state = current_consent(contact, newsletter)
    assert state.status == ConsentStatus.GRANTED
    assert state.confirmed_at is not None  # the purpose asks for double opt-in
    grant = ConsentEvent.objects.get(subject_key=contact.ledger_key, kind="granted")
    assert grant.channel == "centre"
    proof = ConsentProof.objects.get(event=grant).data
    assert proof["ip"] == "203.0.113.9"
    assert proof["user_agent"] == "TestBrowser/1.0"
    assert proof["text"] == newsletter.consent_text_nl
    assert proof["privacy_statement_url"]


def test_subscribing_to_a_single_opt_in_purpose_is_one_event(
    client, contact, token, product_updates
):
    client.post(url("choose", token), {"action": "subscribe", "purpose": product_updates.key})
    assert current_consent(contact, product_updates).status == ConsentStatus.GRANTED
    assert ConsentEvent.objects.filter(subject_key=contact.ledger_key).count() == 1


def test_unsubscribing_takes_one_click_and_works_at_once(client, contact, token, newsletter):
    signed_up(contact, newsletter)
    response = client.post(
        url("choose", token), {"action": "unsubscribe", "purpose": newsletter.key}
    )
    assert response.status_code == 302
    assert current_consent(contact, newsletter).status == ConsentStatus.WITHDRAWN
    page = client.get(response["Location"]).content.decode()
    assert "Afgemeld" in page or "Unsubscribed" in page


def test_withdraw_all_and_object(client, contact, token, newsletter, product_updates):
    signed_up(contact, newsletter)
    client.post(url("choose", token), {"action": "subscribe", "purpose": product_updates.key})
    client.post(url("choose", token), {"action": "withdraw_all"})
    assert current_consent(contact, newsletter).status == ConsentStatus.WITHDRAWN
    assert current_consent(contact, product_updates).status == ConsentStatus.WITHDRAWN
    client.post(url("choose", token), {"action": "object"})
    contact.refresh_from_db()
    assert contact.objected_at is not None
    objection = ConsentEvent.objects.get(subject_key=contact.ledger_key, kind="objected")
    assert objection.purpose is None


def test_the_person_can_lift_their_objection_but_the_soft_opt_in_stays_gone(
    client, contact, token, newsletter
):
    signed_up(contact, newsletter)  # a confirmed newsletter subscription
    record_purchase(
        contact, purchased_on=timezone.localdate(), description="Tent", objection_offered=True
    )
    client.post(url("choose", token), {"action": "object"})
    contact.refresh_from_db()
    facts = facts_for(contact, newsletter)
    assert decide_now(facts, Audience.OPTINS).reason == Reason.OBJECTED
    page = client.get(url("home", token)).content.decode()
    assert 'value="lift_objection"' in page and "Mijn bezwaar opheffen" in page

    response = client.post(url("choose", token), {"action": "lift_objection"})

    assert response.status_code == 302
    lifted = ConsentEvent.objects.get(subject_key=contact.ledger_key, kind="objection_lifted")
    assert lifted.channel == "centre" and lifted.purpose is None
    contact.refresh_from_db()
    assert contact.objected_at is None and contact.has_objected
    facts = facts_for(contact, newsletter)
    # The subscription the person still has counts again...
    assert decide_now(facts, Audience.OPTINS).basis == Basis.CONSENT
    # ...but the customer relationship never comes back after an objection.
    assert decide_now(facts, Audience.CUSTOMERS).reason == Reason.OBJECTED
    page = client.get(url("home", token)).content.decode()
    assert 'value="lift_objection"' not in page
    # Lifting again changes nothing.
    client.post(url("choose", token), {"action": "lift_objection"})
    assert ConsentEvent.objects.filter(kind="objection_lifted").count() == 1


def decide_now(facts, audience):
    return decide(
        facts,
        MailClass.MARKETING_SIMILAR,
        audience,
        today=timezone.localdate(),
        customer_months=24,
    )


def test_unknown_choices_are_refused(client, contact, token):
    assert (
        client.post(url("choose", token), {"action": "subscribe", "purpose": "nope"}).status_code
        == 400
    )
    assert client.post(url("choose", token), {"action": "explode"}).status_code == 400
    assert not ConsentEvent.objects.exists()


@pytest.fixture
def rich_contact(contact, newsletter, product_updates):
    from datetime import date

    signed_up(contact, newsletter)
    record_purchase(
        contact,
        purchased_on=date(2026, 3, 1),
        description="=cmd|' /C calc'!A0",
        objection_offered=True,
    )
    send_service_mail(to=contact.email, subject="Bevestiging", text="Hallo Jan", contact=contact)
    return contact


def test_the_json_download_validates_against_the_published_schema(client, rich_contact):
    token = centre_token(rich_contact)
    schema_response = client.get(reverse("centre:schema"))
    assert schema_response.status_code == 200
    schema = json.loads(b"".join(schema_response.streaming_content))
    response = client.post(url("download", token, "json"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    export = json.loads(response.content)
    jsonschema_rs.validator_for(schema).validate(export)
    assert export["person"]["email"] == "jan.jansen@example.nl"
    newsletter = next(c for c in export["consents"] if c["purpose"]["key"] == "nieuwsbrief")
    assert [e["kind"] for e in newsletter["history"]] == ["granted", "confirmed"]
    assert newsletter["history"][0]["proof"]["ip"] == SIGNUP_IP
    assert export["mails"][0]["subject"] == "Bevestiging"
    assert rich_contact.activities.filter(kind=ActivityKind.EXPORT).exists()


def test_the_schema_rejects_what_it_does_not_describe(client, rich_contact):
    from akkoord.centre.views import load_schema

    export = json.loads(client.post(url("download", centre_token(rich_contact), "json")).content)
    export["person"]["password"] = "x"
    with pytest.raises(jsonschema_rs.ValidationError):
        jsonschema_rs.validator_for(load_schema()).validate(export)


def test_the_csv_download_holds_the_same_data_safely(client, rich_contact):
    response = client.post(url("download", centre_token(rich_contact), "csv"))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["section", "record", "field", "value"]
    assert ["person", "", "email", "jan.jansen@example.nl"] in rows
    assert any(r[0] == "consents" and r[2].endswith("proof.ip") and r[3] == SIGNUP_IP for r in rows)
    description = next(r for r in rows if r[2] == "purchases.1.description")
    assert description[3].startswith("'=")  # no formula runs in a spreadsheet


def test_downloads_need_post(client, contact):
    assert client.get(url("download", centre_token(contact), "json")).status_code == 405


def test_no_personal_data_goes_into_the_session(client, rich_contact, newsletter):
    from django.contrib.sessions.models import Session

    token = centre_token(rich_contact)
    client.get(url("home", token))
    client.post(url("choose", token), {"action": "unsubscribe", "purpose": newsletter.key})
    client.post(url("download", token, "json"))
    assert Session.objects.count() == 0


def test_the_new_link_page_answers_alike_for_known_and_unknown_addresses(client, contact):
    known = client.post(reverse("centre:request_link"), {"email": "Jan.Jansen@example.nl"})
    unknown = client.post(reverse("centre:request_link"), {"email": "nobody@example.nl"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["jan.jansen@example.nl"]
    assert "/centre/" in message.body
    link = next(w for w in message.body.split() if "/centre/" in w)
    assert client.get(link.replace("http://testserver", "")).status_code == 200
    assert contact.activities.filter(kind=ActivityKind.MAIL).exists()


def test_the_new_link_page_refuses_bad_addresses(client, db):
    response = client.post(reverse("centre:request_link"), {"email": "not an address"})
    assert response.status_code == 400
    assert b"errorlist" in response.content
    assert not mail.outbox


def test_the_new_link_page_is_rate_limited(client, contact, one_rate_window):
    for _ in range(5):
        client.post(reverse("centre:request_link"), {"email": contact.email})
    assert len(mail.outbox) == 3  # per address, silently: same answer
    for i in range(10):
        response = client.post(reverse("centre:request_link"), {"email": f"x{i}@example.nl"})
    assert response.status_code == 429


@override_settings(
    TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
)
def test_the_new_link_page_queues_the_same_work_for_known_and_unknown_addresses(client, contact):
    from django_tasks_db.models import DBTaskResult

    client.post(reverse("centre:request_link"), {"email": contact.email})
    client.post(reverse("centre:request_link"), {"email": "nobody@example.nl"})
    queued = list(DBTaskResult.objects.filter(task_path__endswith="send_centre_link"))
    assert len(queued) == 2
    for row in queued:
        assert "@" not in json.dumps(row.args_kwargs)
    assert not mail.outbox  # sent later, by the worker


def test_a_suppressed_address_comes_back_only_by_the_persons_own_confirmed_choice(
    client, newsletter
):
    from django.utils import timezone

    from akkoord.consent.audiences import facts_for
    from akkoord.consent.rules import Audience, MailClass, decide
    from akkoord.contacts.erasure import erase_contact
    from akkoord.contacts.services import register_contact

    first, _ = register_contact({"email": "eva@example.nl"}, source_kind="form")
    erase_contact(first, reason="request", via="test")
    again, _ = register_contact({"email": "eva@example.nl"}, source_kind="import")

    def allowed():
        return decide(
            facts_for(again, newsletter),
            MailClass.MARKETING_OTHER,
            Audience.OPTINS,
            today=timezone.localdate(),
            customer_months=24,
        ).allowed

    assert not allowed()
    # The person follows the link mailed to their own address and subscribes.
    client.post(
        reverse("centre:choose", args=[centre_token(again)]),
        {"action": "subscribe", "purpose": newsletter.key},
    )
    assert allowed()


def test_every_proof_key_of_a_real_sign_up_is_shown_in_words(client, newsletter):
    import re

    from akkoord.contacts.models import Contact
    from akkoord.signup.services import confirm, sign_up
    from akkoord.signup.tests.conftest import make_form

    version = make_form([newsletter])
    sign_up(
        version,
        {"email": "eva@example.nl", "purposes": ["nieuwsbrief"]},
        ip="192.0.2.10",
        user_agent="TestBrowser/1.0",
        page_url="https://shop.example/news",
    )
    token = re.search(r"/f/confirm/([^/\s]+)/", mail.outbox[0].body).group(1)
    confirm(token, ip="198.51.100.7", user_agent="Phone/2")
    page = client.get(url("home", centre_token(Contact.objects.get()))).content.decode()
    history = page[page.index('id="history"') :]
    for words in (
        "Pagina waarvandaan het formulier is verstuurd",
        "Formuliernummer",
        "Verstuurd op",
    ):
        assert words in history, words
    for key in ("page_url", "form_id", "submitted_at", "consent_text", "user_agent", "<dt>ip"):
        assert key not in history, key


def test_an_unsubscribe_by_one_click_is_explained_in_words(client, contact, token, newsletter):
    from akkoord.consent.ledger import record_event
    from akkoord.consent.rules import EventKind

    signed_up(contact, newsletter)
    record_event(
        contact,
        newsletter,
        EventKind.WITHDRAWN,
        channel="unsubscribe",
        proof={"ip": "192.0.2.1", "user_agent": "Mail", "campaign": 7, "how": "one-click"},
    )
    page = client.get(url("home", token)).content.decode()
    assert "met één klik in uw e-mailprogramma (List-Unsubscribe)" in page
    # The mailing is named (it no longer exists here, so by its number), not "campaign: 7".
    assert "<dt>Mailing</dt><dd>mailingnummer 7</dd>" in page


@pytest.mark.parametrize(
    "data",
    [
        {"action": "subscribe", "purpose": "nieuws\x00brief"},
        {"action": "unsubscribe", "purpose": "x" * 5000},
        {"action": "sub\x00scribe", "purpose": "nieuwsbrief"},
        {"action": "object\r\n"},
        {},
    ],
)
def test_malformed_choices_get_a_clear_error_and_change_nothing(
    client, contact, token, newsletter, data
):
    signed_up(contact, newsletter)
    before = ConsentEvent.objects.count()
    response = client.post(url("choose", token), data)
    assert response.status_code == 400
    assert 'class="msg error" role="alert"' in response.content.decode()
    assert ConsentEvent.objects.count() == before


def test_a_nul_in_the_browser_name_does_not_break_a_choice(client, contact, token, newsletter):
    # PostgreSQL cannot store a NUL in JSON; the proof keeps the rest of the name.
    response = client.post(
        url("choose", token),
        {"action": "subscribe", "purpose": newsletter.key},
        HTTP_USER_AGENT="Fire\x00fox\n",
    )
    assert response.status_code == 302
    grant = ConsentEvent.objects.get(subject_key=contact.ledger_key, kind="granted")
    assert ConsentProof.objects.get(event=grant).data["user_agent"] == "Firefox"


@pytest.mark.parametrize("path", ["/centre/ab%00cd/", "/centre/" + "x" * 3000 + "/"])
def test_malformed_links_get_the_invalid_link_page(client, db, path):
    response = client.get(path)
    assert response.status_code == 404


def test_staff_see_the_persons_corrections_with_old_and_new_value(
    client, marketer_client, contact, token
):
    ContactField.objects.create(
        key="city", label_nl="Woonplaats", label_en="City", category="contact"
    )
    update_contact(contact, {"fields": {"city": "Utrecht"}}, actor="test")
    client.post(
        url("correct", token),
        {"first_name": "Johannes", "last_name": "Jansen", "field_city": "Delft", "language": "nl"},
    )
    page = marketer_client.get(reverse("contacts:detail", args=[contact.pk])).content.decode()
    panel = page[page.index('id="centre-panel"') :]
    assert "Gecorrigeerd door de persoon in het klantcentrum" in panel
    assert "<td>Voornaam</td><td>Jan</td><td>Johannes</td>" in panel
    assert "<td>Woonplaats</td><td>Utrecht</td><td>Delft</td>" in panel


def test_subscribing_again_under_an_objection_counts_as_a_double_opt_in(
    client, contact, token, product_updates
):
    # Product updates need no double opt-in; the person subscribed before objecting.
    assert not product_updates.double_opt_in
    client.post(url("choose", token), {"action": "subscribe", "purpose": product_updates.key})
    client.post(url("choose", token), {"action": "object"})
    contact.refresh_from_db()
    assert decide_now(facts_for(contact, product_updates), Audience.OPTINS).reason == (
        Reason.OBJECTED
    )
    page = client.get(url("home", token)).content.decode()
    assert (
        f'name="purpose" value="{product_updates.key}"><button name="action" value="subscribe"'
        in page
    )

    client.post(url("choose", token), {"action": "subscribe", "purpose": product_updates.key})

    kinds = list(
        ConsentEvent.objects.filter(subject_key=contact.ledger_key).values_list("kind", flat=True)
    )
    assert kinds == ["granted", "objected", "granted", "confirmed"]
    contact.refresh_from_db()
    decision = decide_now(facts_for(contact, product_updates), Audience.OPTINS)
    assert decision.basis == Basis.CONSENT
