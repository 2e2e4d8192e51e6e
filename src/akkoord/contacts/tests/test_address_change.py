"""An address a contact changed away from is suppressed; the person keeps their consents.

The old address may come back in an old list marked "had consent". It must not
become mailable for marketing again without a new double opt-in, while the
person, now under the new address, keeps being mailed on their own basis.
"""

import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from akkoord.api.models import ApiKey, Scope
from akkoord.consent.audiences import facts_for, lawful_recipients
from akkoord.consent.ledger import record_event
from akkoord.consent.models import Suppression
from akkoord.consent.rules import Audience, EventKind, MailClass, Reason, decide
from akkoord.contacts.emails import email_hash
from akkoord.contacts.models import Contact
from akkoord.contacts.services import register_contact, update_contact
from akkoord.transfer.importer import ImportRun, prepare, run_import
from akkoord.transfer.reading import open_path

pytestmark = pytest.mark.django_db

OLD = "jan.jansen@example.nl"
NEW = "jan@nieuw.example.nl"


def confirmed_consent(contact, purpose):
    grant = record_event(contact, purpose, EventKind.GRANTED, channel="form", proof={"text": "ja"})
    record_event(contact, purpose, EventKind.CONFIRMED, channel="form", confirms_seq=grant.seq)


def marketing_recipients(purpose) -> set[str]:
    recipients = lawful_recipients(
        purpose,
        MailClass.MARKETING_OTHER,
        Audience.OPTINS,
        today=timezone.localdate(),
        customer_months=24,
    )
    return set(recipients.values_list("email", flat=True))


def decision(contact, purpose, mail_class=MailClass.MARKETING_OTHER, audience=Audience.OPTINS):
    return decide(
        facts_for(contact, purpose),
        mail_class,
        audience,
        today=timezone.localdate(),
        customer_months=24,
    )


def import_old_list(tmp_path, purpose, *, with_proof: bool):
    """An old list with the old address; with opt-in proof, or only 'had consent'."""
    old_list = tmp_path / "old-list.csv"
    if with_proof:
        old_list.write_text(
            "email,first_name,optin_time,optin_ip,confirm_time,confirm_ip\n"
            f"{OLD},Jan,2024-01-01 10:00:00,192.0.2.1,2024-01-01 10:05:00,192.0.2.1\n",
            encoding="utf-8",
        )
    else:
        old_list.write_text(f"email,first_name\n{OLD},Jan\n", encoding="utf-8")
    source = open_path(old_list)
    chosen, mapping, fmt = prepare(source, purpose_key=purpose.key)
    return run_import(ImportRun(source, mapping, chosen, format=fmt))


def assert_old_address_stays_out(tmp_path, purpose, person):
    for with_proof in (True, False):
        report = import_old_list(tmp_path, purpose, with_proof=with_proof)
        assert report.committed and report.suppressed_skipped == 1 and report.created == 0
    assert not Contact.objects.filter(email=OLD).exists()
    # The person keeps their consent under the new address.
    assert marketing_recipients(purpose) == {NEW}
    assert decision(person, purpose).allowed
    # Brought in by another way (staff, API) with a consent that was not
    # confirmed by double opt-in: still not mailable, not even to ask.
    again, _created = register_contact({"email": OLD}, source_kind="staff", actor="test")
    record_event(again, purpose, EventKind.UNPROVEN, channel="import")
    record_event(again, purpose, EventKind.GRANTED, channel="import", needs_confirmation=False)
    assert decision(again, purpose).reason == Reason.SUPPRESSED
    assert not decision(again, purpose, MailClass.REPERMISSION, None).allowed
    assert marketing_recipients(purpose) == {NEW}
    out = io.StringIO()
    call_command("ledger", "verify", stdout=out)
    assert "Ledger OK" in out.getvalue()


def test_a_staff_edit_suppresses_the_old_address_only(
    marketer_client, contact, newsletter, tmp_path
):
    confirmed_consent(contact, newsletter)
    assert marketing_recipients(newsletter) == {OLD}
    response = marketer_client.post(
        f"/contacts/{contact.pk}/edit/",
        {"email": NEW, "first_name": "Jan", "last_name": "Jansen", "language": "nl"},
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.email == NEW
    suppression = Suppression.objects.get()
    assert suppression.email_hash == email_hash(OLD) != contact.email_hash
    assert suppression.reason == "address_changed"
    assert_old_address_stays_out(tmp_path, newsletter, contact)


def test_an_api_update_suppresses_the_old_address_only(contact, newsletter, tmp_path):
    _key, token = ApiKey.issue("webshop", [s.value for s in Scope])
    api = Client(headers={"Authorization": f"Bearer {token}"})
    confirmed_consent(contact, newsletter)
    response = api.patch(
        f"/api/v1/contacts/{contact.pk}", {"email": NEW}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["email"] == NEW
    contact.refresh_from_db()
    assert_old_address_stays_out(tmp_path, newsletter, contact)


def test_the_customer_relationship_moves_with_the_person(contact, newsletter):
    from datetime import timedelta

    from akkoord.contacts.services import record_purchase

    record_purchase(
        contact,
        purchased_on=timezone.localdate() - timedelta(days=20),
        description="boots",
        objection_offered=True,
    )
    update_contact(contact, {"email": NEW}, actor="test")
    contact.refresh_from_db()
    assert decision(contact, newsletter, MailClass.MARKETING_SIMILAR, Audience.CUSTOMERS).allowed


def test_undoing_a_typo_gives_the_person_their_address_back(contact, newsletter):
    confirmed_consent(contact, newsletter)
    update_contact(contact, {"email": "jan.jansen@exmaple.nl"}, actor="test")
    update_contact(contact, {"email": OLD}, actor="test")
    contact.refresh_from_db()
    assert contact.email == OLD
    assert marketing_recipients(newsletter) == {OLD}
    assert list(Suppression.objects.values_list("email_hash", flat=True)) == [
        email_hash("jan.jansen@exmaple.nl")
    ]


def test_someone_else_taking_a_left_address_is_suppressed(contact, newsletter):
    other, _created = register_contact(
        {"email": "piet@example.nl"}, source_kind="staff", actor="test"
    )
    confirmed_consent(other, newsletter)
    update_contact(contact, {"email": NEW}, actor="test")
    update_contact(other, {"email": OLD}, actor="test")
    other.refresh_from_db()
    assert decision(other, newsletter).reason == Reason.SUPPRESSED


def test_an_erased_address_keeps_its_erasure_suppression(contact, newsletter):
    from akkoord.contacts.erasure import erase_contact

    other, _created = register_contact({"email": NEW}, source_kind="staff", actor="test")
    erase_contact(other, reason="request", via="staff")
    update_contact(contact, {"email": NEW}, actor="test")
    update_contact(contact, {"email": OLD}, actor="test")
    # The erasure's suppression is not lifted by someone passing through the
    # address; the person's own old address is theirs again.
    reasons = dict(Suppression.objects.values_list("email_hash", "reason"))
    assert reasons == {email_hash(NEW): "request"}
