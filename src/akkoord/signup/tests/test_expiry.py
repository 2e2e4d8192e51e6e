from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from akkoord.consent.ledger import current_consent, rebuild_state, record_event, verify_ledger
from akkoord.consent.models import ConsentEvent, ConsentProof, Erasure, Suppression
from akkoord.consent.rules import ConsentStatus, EventKind
from akkoord.contacts.erasure import erase_contact
from akkoord.contacts.models import Contact
from akkoord.signup.models import PendingSignup
from akkoord.signup.services import sign_up
from akkoord.signup.tasks import expire_unconfirmed_signups
from akkoord.signup.tests.conftest import PROOF

pytestmark = pytest.mark.django_db


def test_unconfirmed_sign_up_and_its_contact_go_without_suppressing_the_address(
    version, time_machine
):
    sign_up(version, {"email": "eva@example.nl", "purposes": ["nieuwsbrief"]}, **PROOF)
    contact = Contact.objects.get()
    key = contact.ledger_key
    time_machine.move_to(timezone.now() + timedelta(days=29), tick=False)
    assert expire_unconfirmed_signups.enqueue().return_value == {
        "signups_removed": 0,
        "contacts_removed": 0,
    }
    time_machine.move_to(timezone.now() + timedelta(days=2), tick=False)
    call_command("signup_expire", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert not Contact.objects.exists() and not PendingSignup.objects.exists()
    assert not Suppression.objects.exists()
    assert not ConsentProof.objects.filter(subject_key=key).exists()
    assert Erasure.objects.filter(subject_key=key).exists()
    assert ConsentEvent.objects.filter(subject_key=key).count() == 1
    assert verify_ledger().ok
    # The person can sign up again.
    sign_up(version, {"email": "eva@example.nl", "purposes": ["nieuwsbrief"]}, **PROOF)
    assert Contact.objects.count() == 1


def test_existing_contact_stays_when_its_sign_up_expires(version, contact, time_machine):
    sign_up(version, {"email": contact.email, "purposes": ["nieuwsbrief"]}, **PROOF)
    time_machine.move_to(timezone.now() + timedelta(days=31), tick=False)
    call_command("signup_expire", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert not PendingSignup.objects.exists()
    assert verify_ledger().ok


def test_a_contact_with_anything_else_is_kept(version, product_updates, time_machine):
    sign_up(version, {"email": "eva@example.nl", "purposes": ["nieuwsbrief"]}, **PROOF)
    contact = Contact.objects.get()
    record_event(contact, product_updates, EventKind.GRANTED, channel="staff", proof={"by": "x"})
    time_machine.move_to(timezone.now() + timedelta(days=31), tick=False)
    call_command("signup_expire", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_confirmed_sign_ups_never_expire(version, time_machine):
    import re

    from akkoord.signup.services import confirm

    sign_up(version, {"email": "eva@example.nl", "purposes": ["nieuwsbrief"]}, **PROOF)
    token = re.search(r"/f/confirm/([^/\s]+)/", mail.outbox[0].body).group(1)
    confirm(token, ip="1.2.3.4", user_agent="x")
    time_machine.move_to(timezone.now() + timedelta(days=400), tick=False)
    call_command("signup_expire", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Contact.objects.count() == 1 and PendingSignup.objects.count() == 1


def test_erasing_a_person_removes_their_pending_sign_ups(version):
    sign_up(version, {"email": "eva@example.nl", "purposes": ["nieuwsbrief"]}, **PROOF)
    erase_contact(Contact.objects.get(), reason="request", via="centre")
    assert not PendingSignup.objects.exists()
    assert verify_ledger().ok


@pytest.mark.parametrize("earlier", [None, EventKind.WITHDRAWN])
def test_an_expired_sign_up_of_an_existing_contact_is_undone_and_its_proof_erased(
    version, contact, newsletter, time_machine, earlier
):
    if earlier is not None:
        record_event(contact, newsletter, earlier, channel="staff", proof={"by": "x"})
    before = current_consent(contact, newsletter).status
    sign_up(version, {"email": contact.email, "purposes": ["nieuwsbrief"]}, **PROOF)
    grant = ConsentEvent.objects.get(subject_key=contact.ledger_key, kind=EventKind.GRANTED)
    assert current_consent(contact, newsletter).status == ConsentStatus.PENDING
    assert grant.proof.data["ip"]
    time_machine.move_to(timezone.now() + timedelta(days=31), tick=False)
    call_command("signup_expire", stdout=open("/dev/null", "w"))  # noqa: SIM115
    expired = ConsentEvent.objects.get(subject_key=contact.ledger_key, kind=EventKind.EXPIRED)
    assert expired.confirms_seq == grant.seq and expired.purpose == newsletter
    assert current_consent(contact, newsletter).status == before
    assert not ConsentProof.objects.filter(event=grant).exists()
    assert verify_ledger().ok
    assert rebuild_state(fix=False).drift == []


def test_a_missing_proof_without_an_erasure_marker_still_fails_verification(
    version, contact, time_machine
):
    sign_up(version, {"email": contact.email, "purposes": ["nieuwsbrief"]}, **PROOF)
    grant = ConsentEvent.objects.get(subject_key=contact.ledger_key, kind=EventKind.GRANTED)
    ConsentProof.objects.filter(event=grant).delete()
    result = verify_ledger()
    assert not result.ok and result.broken_seq == grant.seq
