"""Erasing a person also removes the mail the local catcher caught for them."""

from akkoord.contacts.erasure import erase_contact
from akkoord.contacts.services import register_contact
from akkoord.mail.models import CaughtMessage


def _caught(recipients: list[str]) -> CaughtMessage:
    return CaughtMessage.objects.create(
        mail_from="winkel@example.nl",
        recipients="\n".join(recipients),
        subject="Bevestig je aanmelding",
        raw=b"Subject: Bevestig je aanmelding\r\n\r\nHallo",
    )


def test_erasure_deletes_caught_mail_to_the_person_and_keeps_the_rest(contact):
    to_person = _caught([contact.email])
    to_person_and_other = _caught(["other@example.nl", contact.email.upper()])
    lookalike = _caught(["x" + contact.email])
    unrelated = _caught(["other@example.nl"])

    erase_contact(contact, reason="request", via="staff")

    remaining = set(CaughtMessage.objects.values_list("pk", flat=True))
    assert to_person.pk not in remaining
    assert to_person_and_other.pk not in remaining
    assert remaining == {lookalike.pk, unrelated.pk}


def test_erasure_matches_the_ascii_form_of_an_international_domain(db):
    person, _created = register_contact(
        {"email": "anna@bücher.example"}, source_kind="staff", actor="test"
    )
    sent_in_idna = _caught(["anna@xn--bcher-kva.example"])

    erase_contact(person, reason="request", via="staff")

    assert not CaughtMessage.objects.filter(pk=sent_in_idna.pk).exists()
