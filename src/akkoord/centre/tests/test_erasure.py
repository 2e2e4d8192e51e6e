"""Erasure (art. 17): from the centre at once, or after staff review; nothing left in clear."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from akkoord.accounts.audit import audit
from akkoord.accounts.models import AuditAction
from akkoord.centre.links import centre_token
from akkoord.centre.models import CentreSettings, ErasureRequest, RequestStatus, add_months
from akkoord.centre.tests.helpers import SIGNUP_IP, find_everywhere, signed_up, table_count
from akkoord.consent.audiences import facts_for, lawful_recipients
from akkoord.consent.ledger import record_event, verify_ledger
from akkoord.consent.models import ConsentProof, Erasure, Suppression
from akkoord.consent.rules import Audience, EventKind, MailClass, Reason, decide
from akkoord.contacts.emails import email_hash
from akkoord.contacts.erasure import erase_contact, register_eraser
from akkoord.contacts.models import Contact, ContactField, ErasureLog
from akkoord.contacts.services import record_purchase, register_contact

EMAIL = "jacoba.zwanenburg@voorbeeld.nl"
FIRST, LAST = "Jacoba", "Zwanenburg"
CENTRE_IP = "203.0.113.77"


@pytest.fixture
def person(db, newsletter, product_updates):
    ContactField.objects.create(
        key="city", label_nl="Woonplaats", label_en="City", category="contact"
    )
    contact, _ = register_contact(
        {"email": EMAIL, "first_name": FIRST, "last_name": LAST, "fields": {"city": "Zwolle"}},
        source_kind="form",
        source_detail="website",
    )
    signed_up(contact, newsletter)
    record_purchase(
        contact, purchased_on=date(2026, 1, 5), description="Fiets", objection_offered=True
    )
    return contact


def _use_the_centre(client, contact, product_updates):
    token = centre_token(contact)
    kwargs = {"REMOTE_ADDR": CENTRE_IP, "HTTP_USER_AGENT": "Firefox"}
    assert client.get(reverse("centre:home", args=[token]), **kwargs).status_code == 200
    client.post(
        reverse("centre:correct", args=[token]),
        {
            "first_name": FIRST,
            "last_name": LAST + "-Bakker",
            "field_city": "Zwolle",
            "language": "nl",
        },
        **kwargs,
    )
    client.post(
        reverse("centre:choose", args=[token]),
        {"action": "subscribe", "purpose": product_updates.key},
        **kwargs,
    )
    client.post(reverse("centre:download", args=[token, "csv"]), **kwargs)
    client.post(reverse("centre:request_link"), {"email": EMAIL}, **kwargs)
    return token


def assert_nothing_left(*, needles=(EMAIL, FIRST, LAST, SIGNUP_IP, CENTRE_IP)):
    assert table_count() > 20
    assert find_everywhere(list(needles)) == {}
    assert Suppression.objects.filter(email_hash=email_hash(EMAIL)).exists()
    result = verify_ledger()
    assert result.ok, result.problem
    assert result.proofs_erased > 0


def assert_reimport_is_not_mailable(newsletter):
    again, created = register_contact(
        {"email": EMAIL}, source_kind="import", source_detail="old.csv"
    )
    assert created
    record_event(again, newsletter, EventKind.UNPROVEN, channel="import", proof={"file": "old.csv"})
    record_event(
        again,
        newsletter,
        EventKind.GRANTED,
        channel="import",
        needs_confirmation=False,
        proof={"file": "old.csv"},
    )
    for audience, mail_class in [
        (Audience.OPTINS, MailClass.MARKETING_OTHER),
        (Audience.CUSTOMERS_AND_OPTINS, MailClass.MARKETING_SIMILAR),
    ]:
        recipients = lawful_recipients(
            newsletter, mail_class, audience, today=timezone.localdate(), customer_months=24
        )
        assert not recipients.filter(pk=again.pk).exists()
        decision = decide(
            facts_for(again, newsletter),
            mail_class,
            audience,
            today=timezone.localdate(),
            customer_months=24,
        )
        assert not decision.allowed
        assert decision.reason == Reason.SUPPRESSED
    assert not decide(
        facts_for(again, newsletter),
        MailClass.REPERMISSION,
        None,
        today=timezone.localdate(),
        customer_months=24,
    ).allowed


@override_settings(
    TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
)
def test_erasing_from_the_centre_leaves_no_trace_anywhere(
    client, admin_client, admin, person, newsletter, product_updates
):
    from django_tasks_db.models import DBTaskResult

    audit(admin, AuditAction.VIEW, person)
    admin_client.get(reverse("centre:requests"))
    token = _use_the_centre(client, person, product_updates)
    assert DBTaskResult.objects.exists()  # the queued link mail (it holds only a keyed hash)
    assert find_everywhere([EMAIL, SIGNUP_IP, CENTRE_IP])  # the scan does find data in clear
    page = client.get(reverse("centre:erase", args=[token]))
    assert page.status_code == 200 and Contact.objects.filter(pk=person.pk).exists()
    response = client.post(reverse("centre:erase", args=[token]), {"confirm": "yes"})
    assert response.status_code == 302 and response["Location"] == reverse("centre:erased")
    assert not Contact.objects.filter(pk=person.pk).exists()
    assert client.get(reverse("centre:home", args=[token])).status_code == 404
    assert ErasureLog.objects.filter(reason="request", via="centre").count() == 1
    assert_nothing_left()
    assert_reimport_is_not_mailable(newsletter)


def test_erasure_needs_the_confirmation_step(client, person):
    token = centre_token(person)
    response = client.post(reverse("centre:erase", args=[token]), {})
    assert response.status_code == 400
    assert Contact.objects.filter(pk=person.pk).exists()


@pytest.fixture
def review(db):
    settings = CentreSettings.current()
    settings.erasure_needs_review = True
    settings.save()
    return settings


def test_with_review_a_request_waits_with_its_one_month_deadline(
    client, review, person, dpo_client, marketer_client
):
    token = centre_token(person)
    response = client.post(reverse("centre:erase", args=[token]), {"confirm": "yes"})
    assert response.status_code == 200
    assert Contact.objects.filter(pk=person.pk).exists()
    request = ErasureRequest.objects.get()
    assert request.deadline == add_months(request.received_at, 1)
    # Asking twice does not make a second request.
    client.post(reverse("centre:erase", args=[token]), {"confirm": "yes"})
    assert ErasureRequest.objects.count() == 1
    listing = dpo_client.get(reverse("centre:requests")).content.decode()
    assert f"#{request.pk}" in listing
    detail = dpo_client.get(reverse("centre:request", args=[request.pk])).content.decode()
    assert FIRST in detail and 'value="carry_out"' not in detail  # read-only for the DPO
    detail = marketer_client.get(reverse("centre:request", args=[request.pk])).content.decode()
    assert 'value="carry_out"' in detail and 'value="extend"' in detail
    # The DPO reads; only administrators and marketers act.
    action = reverse("centre:request_action", args=[request.pk])
    assert dpo_client.post(action, {"action": "carry_out", "confirm": "yes"}).status_code == 403
    response = marketer_client.post(
        action, {"action": "extend", "notice": "Veel verzoeken tegelijk."}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.EXTENDED
    assert request.extended_until == add_months(request.deadline, 2)
    assert "Veel verzoeken tegelijk." in mail.outbox[-1].body
    # Only one extension.
    assert (
        marketer_client.post(action, {"action": "extend", "notice": "Nog meer."}).status_code == 400
    )
    response = marketer_client.post(action, {"action": "carry_out", "confirm": "yes"})
    assert response.status_code == 302
    assert not Contact.objects.filter(pk=person.pk).exists()
    assert mail.outbox[-1].to == [EMAIL]
    request.refresh_from_db()
    assert request.status == RequestStatus.DONE and request.contact is None
    assert request.extension_notice == ""
    assert_nothing_left(needles=(EMAIL, FIRST, LAST, SIGNUP_IP))


def test_declining_keeps_the_person_and_tells_them_why(client, review, person, admin_client):
    client.post(reverse("centre:erase", args=[centre_token(person)]), {"confirm": "yes"})
    request = ErasureRequest.objects.get()
    action = reverse("centre:request_action", args=[request.pk])
    assert admin_client.post(action, {"action": "decline", "reason": ""}).status_code == 400
    admin_client.post(action, {"action": "decline", "reason": "Wettelijke bewaarplicht facturen."})
    request.refresh_from_db()
    assert request.status == RequestStatus.DECLINED
    assert Contact.objects.filter(pk=person.pk).exists()
    assert "Wettelijke bewaarplicht" in mail.outbox[-1].body


def test_overdue_requests_stand_out(review, person, admin_client):
    request = ErasureRequest.objects.create(
        contact=person, received_at=timezone.now() - timedelta(days=40)
    )
    assert request.is_overdue and not request.can_extend()
    page = admin_client.get(reverse("centre:requests")).content.decode()
    assert "badge bad" in page


def test_only_administrators_change_the_setting(admin_client, marketer_client):
    url = reverse("centre:settings")
    assert b"erasure_needs_review" in admin_client.get(url).content
    assert marketer_client.post(url, {"erasure_needs_review": "on"}).status_code == 403
    assert admin_client.post(url, {"erasure_needs_review": "on"}).status_code == 302
    assert CentreSettings.current().erasure_needs_review


def test_add_months_clamps_to_the_end_of_the_month():
    moment = timezone.now().replace(year=2026, month=1, day=31)
    assert add_months(moment, 1).date() == date(2026, 2, 28)
    assert add_months(moment, 3).date() == date(2026, 4, 30)
    assert add_months(moment.replace(month=12, day=15), 2).date() == date(2027, 2, 15)


# --- contacts.erasure.erase_contact itself ------------------------------------


def test_erase_contact_removes_proofs_and_keeps_the_ledger_verifiable(person, newsletter):
    key = person.ledger_key
    erase_contact(person, reason="request", via="test")
    assert not ConsentProof.objects.filter(subject_key=key).exists()
    assert Erasure.objects.filter(subject_key=key).exists()
    assert verify_ledger().ok


def test_erase_contact_runs_registered_erasers_inside_its_transaction(person):
    seen = []

    def failing(contact):
        seen.append(contact.pk)
        raise RuntimeError("eraser failed")

    register_eraser(failing)
    try:
        with pytest.raises(RuntimeError):
            erase_contact(person, reason="request", via="test")
    finally:
        from akkoord.contacts import erasure

        erasure._erasers.remove(failing)
    assert seen == [person.pk]
    # Nothing half-done: the person, their proof and no suppression.
    assert Contact.objects.filter(pk=person.pk).exists()
    assert ConsentProof.objects.filter(subject_key=person.ledger_key).exists()
    assert not Suppression.objects.filter(email_hash=person.email_hash).exists()


def test_erasing_an_address_twice_keeps_one_suppression(person, newsletter):
    erase_contact(person, reason="request", via="test")
    again, _ = register_contact({"email": EMAIL}, source_kind="import")
    erase_contact(again, reason="retention", via="test")
    assert Suppression.objects.filter(email_hash=email_hash(EMAIL)).count() == 1
    assert ErasureLog.objects.count() == 2
    assert verify_ledger().ok


def test_staff_see_why_a_reimported_address_is_not_mailable(rf, admin, person, newsletter, review):
    from akkoord.lib.panels import contact_page, dashboard

    erase_contact(person, reason="request", via="test")
    again, _ = register_contact({"email": EMAIL}, source_kind="import")
    request = rf.get("/")
    admin.is_verified = lambda: True  # as django-otp's middleware marks it
    request.user = admin
    html = "".join(contact_page.render(request, again))
    assert "badge bad" in html and "opt-in" in html
    ErasureRequest.objects.create(contact=again)
    assert any("/requests/" in part for part in dashboard.render(request))


def test_an_open_request_is_closed_when_the_person_is_erased_another_way(review, person):
    request = ErasureRequest.objects.create(contact=person)
    erase_contact(person, reason="retention", via="test")
    request.refresh_from_db()
    assert request.contact is None
    assert request.status == RequestStatus.DONE and request.handled_at is not None


def test_erasing_one_person_leaves_everyone_else_untouched(person, newsletter):
    other, _ = register_contact(
        {"email": "kees@voorbeeld.nl", "first_name": "Kees"}, source_kind="form"
    )
    signed_up(other, newsletter)
    proofs_before = ConsentProof.objects.filter(subject_key=other.ledger_key).count()
    erase_contact(person, reason="request", via="test")
    assert Contact.objects.filter(pk=other.pk).exists()
    assert ConsentProof.objects.filter(subject_key=other.ledger_key).count() == proofs_before
    assert not Suppression.objects.filter(email_hash=other.email_hash).exists()
    assert verify_ledger().ok
