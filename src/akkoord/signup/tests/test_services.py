import re

import pytest
from django.core import mail

from akkoord.consent.ledger import current_consent, verify_ledger
from akkoord.consent.models import ConsentEvent, ConsentProof, ConsentState
from akkoord.consent.rules import ConsentStatus, EventKind
from akkoord.contacts.models import Contact
from akkoord.signup.models import PendingSignup
from akkoord.signup.services import (
    InvalidConfirmation,
    SignupInvalid,
    SignupRefused,
    confirm,
    sign_up,
)
from akkoord.signup.tests.conftest import PROOF, make_form

pytestmark = pytest.mark.django_db


def link_token(message) -> str:
    return re.search(r"/f/confirm/([^/\s]+)/", message.body).group(1)


def test_sign_up_creates_contact_and_pending_grant_with_full_proof(version, newsletter):
    result = sign_up(
        version,
        {"email": "Eva@Example.NL", "first_name": "Eva", "purposes": ["nieuwsbrief"]},
        **PROOF,
    )
    contact = Contact.objects.get(email="eva@example.nl")
    assert result.created_contact and result.mail_sent
    assert contact.source_kind == "form" and contact.source_detail == version.channel_ref
    assert current_consent(contact, newsletter).status == ConsentStatus.PENDING
    event = ConsentEvent.objects.get(subject_key=contact.ledger_key)
    assert event.kind == EventKind.GRANTED and event.needs_confirmation
    assert event.channel == "form" and event.channel_ref == f"form:{version.form_id}:v1"
    assert event.privacy_statement_version.startswith("url:")
    proof = ConsentProof.objects.get(event=event).data
    assert proof["ip"] == "192.0.2.10"
    assert proof["user_agent"] == "TestBrowser/1.0"
    assert proof["page_url"] == "https://shop.example/news"
    assert proof["form_id"] == version.form_id and proof["form_version"] == 1
    assert proof["consent_text"] == newsletter.consent_text_nl
    assert proof["privacy_statement_url"] == "https://shop.example/privacy"
    assert proof["submitted_at"]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["eva@example.nl"]


def test_confirmation_mail_never_echoes_what_the_person_typed(version):
    sign_up(
        version,
        {
            "email": "x@example.nl",
            "first_name": "Visit evil.example now",
            "purposes": ["nieuwsbrief"],
        },
        **PROOF,
    )
    message = mail.outbox[0]
    html = message.alternatives[0][0]
    for part in (message.subject, message.body, html):
        assert "evil.example" not in part
    assert "Nieuwsbrief" in message.body


def test_confirming_records_time_and_ip_and_the_link_works_once(version, newsletter):
    sign_up(version, {"email": "eva@example.nl", "purposes": ["nieuwsbrief"]}, **PROOF)
    token = link_token(mail.outbox[0])
    pending = confirm(token, ip="198.51.100.7", user_agent="Phone/2")
    contact = pending.contact
    state = ConsentState.objects.get(contact=contact, purpose=newsletter)
    assert state.status == ConsentStatus.GRANTED and state.confirmed_at is not None
    confirmed = ConsentEvent.objects.get(subject_key=contact.ledger_key, kind=EventKind.CONFIRMED)
    assert confirmed.confirms_seq == state.grant_seq
    assert confirmed.proof.data["ip"] == "198.51.100.7"
    assert confirmed.proof.data["confirmed_at"]
    with pytest.raises(InvalidConfirmation):
        confirm(token, ip="198.51.100.7", user_agent="Phone/2")
    assert verify_ledger().ok


def test_unknown_and_forged_tokens_are_refused(version):
    for token in ("", "nope", "x" * 500):
        with pytest.raises(InvalidConfirmation):
            confirm(token, ip="1.2.3.4", user_agent="")


def test_a_purpose_not_on_the_form_version_never_becomes_consent(version, product_updates):
    sign_up(
        version,
        {"email": "eva@example.nl", "purposes": ["nieuwsbrief", "productupdates", "bogus"]},
        **PROOF,
    )
    contact = Contact.objects.get(email="eva@example.nl")
    assert not ConsentState.objects.filter(contact=contact, purpose=product_updates).exists()
    assert ConsentEvent.objects.filter(subject_key=contact.ledger_key).count() == 1


def test_no_ticked_purpose_is_refused_and_saves_nothing(two_purpose_version):
    with pytest.raises(SignupInvalid) as error:
        sign_up(two_purpose_version, {"email": "eva@example.nl"}, **PROOF)
    assert "purposes" in error.value.errors
    assert not Contact.objects.exists() and not ConsentEvent.objects.exists()


def test_unticked_purpose_records_nothing_for_it(two_purpose_version, product_updates):
    sign_up(two_purpose_version, {"email": "eva@example.nl", "purposes": ["nieuwsbrief"]}, **PROOF)
    contact = Contact.objects.get()
    assert not ConsentState.objects.filter(contact=contact, purpose=product_updates).exists()


def test_bad_data_is_refused_with_messages_per_field(version):
    with pytest.raises(SignupInvalid) as error:
        sign_up(
            version,
            {"email": "not an address", "first_name": "a\r\nBcc: x@y", "purposes": ["nieuwsbrief"]},
            **PROOF,
        )
    assert set(error.value.errors) >= {"email", "first_name"}
    with pytest.raises(SignupInvalid) as error:
        sign_up(
            version, {"email": "e@example.nl", "phone": "1", "purposes": ["nieuwsbrief"]}, **PROOF
        )
    assert "phone" in error.value.errors
    assert not Contact.objects.exists()


def test_required_fields_are_enforced(newsletter):
    version = make_form([newsletter], fields=[{"key": "last_name", "required": True}])
    with pytest.raises(SignupInvalid) as error:
        sign_up(version, {"email": "e@example.nl", "purposes": ["nieuwsbrief"]}, **PROOF)
    assert "last_name" in error.value.errors


def test_existing_contact_is_found_and_not_changed(version, contact, newsletter):
    sign_up(
        version,
        {"email": contact.email, "first_name": "Someone else", "purposes": ["nieuwsbrief"]},
        **PROOF,
    )
    contact.refresh_from_db()
    assert contact.first_name == "Jan"
    assert Contact.objects.count() == 1
    assert PendingSignup.objects.get().created_contact is False


def test_a_confirmed_consent_is_not_turned_back_to_pending_by_a_stranger(version, newsletter):
    sign_up(version, {"email": "eva@example.nl", "purposes": ["nieuwsbrief"]}, **PROOF)
    confirm(link_token(mail.outbox[0]), ip="198.51.100.7", user_agent="x")
    result = sign_up(version, {"email": "eva@example.nl", "purposes": ["nieuwsbrief"]}, **PROOF)
    contact = Contact.objects.get()
    assert current_consent(contact, newsletter).status == ConsentStatus.GRANTED
    assert result.new_grants == [] and not result.mail_sent


def test_unpublished_form_takes_no_sign_ups(newsletter):
    version = make_form([newsletter], published=False)
    with pytest.raises(SignupRefused) as error:
        sign_up(version, {"email": "e@example.nl", "purposes": ["nieuwsbrief"]}, **PROOF)
    assert error.value.code == "closed"


def test_api_channel_uses_the_same_rules(version):
    result = sign_up(
        version, {"email": "api@example.nl", "purposes": ["nieuwsbrief"]}, channel="api", **PROOF
    )
    assert result.mail_sent
    event = ConsentEvent.objects.get()
    assert event.channel == "api"
    with pytest.raises(ValueError):
        sign_up(
            version,
            {"email": "a@example.nl", "purposes": ["nieuwsbrief"]},
            channel="import",
            **PROOF,
        )


def test_nothing_else_is_sent_until_confirmed_then_the_privacy_confirmation(
    version, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        sign_up(version, {"email": "eva@example.nl", "purposes": ["nieuwsbrief"]}, **PROOF)
    assert callbacks  # contact_registered went out, and was deferred
    assert len(mail.outbox) == 1  # only the confirmation request
    contact = Contact.objects.get()
    assert contact.informed_at is None
    with django_capture_on_commit_callbacks(execute=True):
        confirm(link_token(mail.outbox[0]), ip="198.51.100.7", user_agent="x")
    assert len(mail.outbox) == 2
    contact.refresh_from_db()
    assert contact.informed_at is not None
    assert "/centre/" in mail.outbox[1].body


def test_a_published_privacy_statement_is_linked_and_its_version_recorded(version, settings):
    from akkoord.accountability.models import StatementVersion

    StatementVersion.objects.create(number=3, content={})
    sign_up(version, {"email": "eva@example.nl", "purposes": ["nieuwsbrief"]}, **PROOF)
    event = ConsentEvent.objects.get()
    assert event.privacy_statement_version == "3"
    assert event.proof.data["privacy_statement_url"] == settings.AKKOORD_BASE_URL + "/privacy/3/"
