from datetime import timedelta
from email import message_from_bytes

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from akkoord.consent.ledger import record_event
from akkoord.consent.rules import EventKind
from akkoord.contacts.models import Activity, ActivityKind, Contact, ContactField
from akkoord.contacts.services import register_contact, update_contact
from akkoord.lib import tokens
from akkoord.lib.sandbox import TemplateError
from akkoord.notices.models import NoticeSettings, NoticeTemplate
from akkoord.notices.rendering import check_template, render_string
from akkoord.notices.services import (
    addresses_for,
    centre_link_valid,
    default_template,
    filled_categories,
    send_privacy_confirmation,
    uninformed,
)
from akkoord.organisation.models import Organisation

pytestmark = pytest.mark.django_db


def register(email, channel, capture, **extra):
    with capture(execute=True):
        contact, _created = register_contact({"email": email, **extra}, source_kind=channel)
    return contact


@pytest.mark.parametrize("channel", ["staff", "import", "api"])
def test_sent_once_on_first_registration_not_on_later_changes(
    channel, django_capture_on_commit_callbacks
):
    contact = register("eva@example.nl", channel, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["eva@example.nl"]
    contact.refresh_from_db()
    assert contact.informed_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        update_contact(contact, {"first_name": "Eva"}, actor="test")
    assert len(mail.outbox) == 1
    archived = Activity.objects.get(contact=contact, kind=ActivityKind.MAIL)
    assert archived.data["text"] == mail.outbox[0].body
    assert archived.data["template"].startswith("privacy-confirmation:")


def test_a_disabled_channel_sends_nothing(django_capture_on_commit_callbacks):
    settings_row = NoticeSettings.current()
    settings_row.send_on_import = False
    settings_row.save()
    contact = register("eva@example.nl", "import", django_capture_on_commit_callbacks)
    assert not mail.outbox
    contact.refresh_from_db()
    assert contact.informed_at is None
    register("jan@example.nl", "staff", django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1


def test_content_names_categories_purposes_withdrawal_and_centre_link(contact, newsletter):
    Organisation.current() and Organisation.objects.update(
        name="Fietsenwinkel Jansen", centre_link_days=21
    )
    ContactField.objects.create(
        key="telefoon", label_nl="Telefoon", label_en="Phone", kind="phone", category="contact"
    )
    record_event(contact, newsletter, EventKind.GRANTED, channel="staff", needs_confirmation=False)
    send_privacy_confirmation(contact, language="en")
    body = mail.outbox[0].body
    assert "Fietsenwinkel Jansen" in mail.outbox[0].subject
    assert "Contact details" in body and "Name and identity" in body
    assert "Newsletter" in body
    assert "withdraw your consent at any time" in body
    assert "/centre/" in body and "21 days" in body
    assert "Purchase history" not in body


def test_dutch_template_in_dutch(contact):
    send_privacy_confirmation(contact, language="nl")
    body = mail.outbox[0].body
    assert "toestemming altijd intrekken" in body
    assert "Uw gegevens bij" in mail.outbox[0].subject


def test_categories_are_those_actually_filled(contact):
    assert filled_categories(contact) == ["identity", "contact"]
    bare, _ = register_contact({"email": "bare@example.nl"}, source_kind="staff")
    assert filled_categories(bare) == ["contact"]


def test_only_the_persons_own_addresses_can_be_chosen(contact):
    ContactField.objects.create(
        key="werkmail", label_nl="Werkmail", label_en="Work mail", category="contact"
    )
    update_contact(contact, {"fields": {"werkmail": "Jan@Work.example"}}, actor="t")
    assert addresses_for(contact) == ["jan.jansen@example.nl", "jan@work.example"]
    send_privacy_confirmation(contact, to="jan@work.example")
    assert mail.outbox[0].to == ["jan@work.example"]
    with pytest.raises(ValidationError):
        send_privacy_confirmation(contact, to="stranger@example.com")


def test_centre_link_valid_on_day_20_refused_on_day_22(contact, time_machine):
    time_machine.move_to("2026-11-23 12:00:00+00:00", tick=False)
    token = tokens.make_token(tokens.CENTRE, contact)
    time_machine.move_to("2026-12-13 12:00:00+00:00", tick=False)
    assert centre_link_valid(token)
    time_machine.move_to("2026-12-15 12:00:00+00:00", tick=False)
    assert not centre_link_valid(token)
    assert not centre_link_valid(token + "x")
    assert not centre_link_valid(tokens.make_token(tokens.UNSUBSCRIBE, contact))


def test_centre_link_days_is_configurable(contact, time_machine):
    Organisation.current() and Organisation.objects.update(centre_link_days=30)
    time_machine.move_to("2026-11-23 12:00:00+00:00", tick=False)
    token = tokens.make_token(tokens.CENTRE, contact)
    time_machine.move_to("2026-12-16 12:00:00+00:00", tick=False)
    assert centre_link_valid(token)


def test_the_link_in_the_mail_is_a_centre_link(contact):
    send_privacy_confirmation(contact)
    token = mail.outbox[0].body.split("/centre/")[1].split("/")[0]
    assert tokens.contact_for_token(tokens.CENTRE, token, max_age=timedelta(days=21))[0] == contact


def test_templates_see_only_the_explicit_context():
    assert render_string("{{ contact.email }}{{ settings.SECRET_KEY }}x", {"a": "b"}) == "x"
    with pytest.raises(TemplateError):
        check_template("ok", "{% load static %}")
    with pytest.raises(TemplateError):
        check_template("ok", "{% include 'base.html' %}")
    # The same sandbox as campaign mails: {% debug %} would print the context.
    with pytest.raises(TemplateError):
        check_template("ok", "{% debug %}")
    with pytest.raises(TemplateError):
        check_template("{% if %}", "x")


def test_default_template_is_created_once():
    first = default_template()
    assert default_template() == first and NoticeTemplate.objects.count() == 1


def test_uninformed_people_and_days_left(time_machine):
    time_machine.move_to("2026-11-01 12:00:00+00:00", tick=False)
    old = Contact.objects.create(
        email="old@example.nl", email_hash="x", source_kind="import", collected_from_person=False
    )
    time_machine.move_to("2026-11-23 12:00:00+00:00", tick=False)
    total, rows = uninformed()
    assert total == 1
    assert rows[0]["contact"] == old and rows[0]["days_left"] == 8 and rows[0]["art14"]
    time_machine.move_to("2026-12-05 12:00:00+00:00", tick=False)
    assert uninformed()[1][0]["overdue"] == 4


HEADER_TEXT = st.lists(
    st.one_of(
        st.text(max_size=20),
        st.sampled_from(
            ["\r", "\n", "\r\n", "\r\nBcc: evil@example.com", "\nX-Injected: 1", "\x00"]
        ),
    ),
    max_size=6,
).map("".join)
ALLOWED_HEADERS = {
    "content-type",
    "mime-version",
    "content-transfer-encoding",
    "subject",
    "from",
    "to",
    "date",
    "message-id",
}


def assert_no_injection(message):
    parsed = message_from_bytes(message.message().as_bytes())
    names = [name.lower() for name, _value in parsed.items()]
    assert set(names) <= ALLOWED_HEADERS, names
    assert len(names) == len(set(names))
    assert "\n" not in str(parsed["Subject"]).replace("\n ", "")
    assert message.recipients() == [message.to[0]] and len(message.to) == 1


@hsettings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(subject=HEADER_TEXT, organisation=HEADER_TEXT)
def test_header_injection_cannot_add_a_header(contact, subject, organisation):
    # The database refuses NUL characters in text; the organisation form does too.
    name = organisation.replace("\x00", "")[:200] or "x"
    Organisation.current() and Organisation.objects.update(name=name)
    mail.outbox.clear()
    send_privacy_confirmation(contact, subject=subject)
    send_privacy_confirmation(contact, subject=None)
    for message in mail.outbox:
        assert_no_injection(message)


def test_bulk_registrations_are_queued_and_each_person_gets_one_mail():
    from akkoord.notices.models import QueuedNotice
    from akkoord.notices.services import deliver_queued_notices, queue_notices

    people = [
        Contact.objects.create(email=f"p{i}@example.nl", email_hash=str(i), source_kind="import")
        for i in range(5)
    ]
    people[0].informed_at = timezone.now()
    Contact.objects.filter(pk=people[0].pk).update(informed_at=people[0].informed_at)
    queue_notices([p.pk for p in people], "import")
    queue_notices([p.pk for p in people[:2]], "import")  # queued twice: still one each
    assert QueuedNotice.objects.count() == 5
    result = deliver_queued_notices()
    assert sorted(m.to[0] for m in mail.outbox) == [f"p{i}@example.nl" for i in range(1, 5)]
    assert (result.sent, result.not_needed, result.next_due) == (4, 1, None)
    assert not QueuedNotice.objects.exists()
    NoticeSettings.objects.update(send_on_import=False)
    extra = Contact.objects.create(email="q@example.nl", email_hash="q", source_kind="import")
    assert queue_notices([extra.pk], "import") == 0
    assert not QueuedNotice.objects.exists()


def test_a_disabled_form_channel_sends_nothing_after_the_confirmation(
    newsletter, django_capture_on_commit_callbacks
):
    import re

    from akkoord.signup.services import confirm, sign_up
    from akkoord.signup.tests.conftest import make_form

    NoticeSettings.current()
    NoticeSettings.objects.update(send_on_form=False)
    version = make_form([newsletter])
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(
            version,
            {"email": "eva@example.nl", "purposes": ["nieuwsbrief"]},
            ip="192.0.2.1",
            user_agent="x",
            page_url="",
        )
    token = re.search(r"/f/confirm/([^/\s]+)/", mail.outbox[0].body).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        confirm(token, ip="192.0.2.1", user_agent="x")
    assert len(mail.outbox) == 1  # the confirmation request only
    assert Contact.objects.get().informed_at is None


@pytest.mark.django_db(transaction=True)
def test_two_workers_with_the_same_registration_send_one_mail(settings, monkeypatch):
    import threading
    import time

    from django.core.mail.backends.locmem import EmailBackend
    from django.db import OperationalError, connection

    from akkoord.notices.services import send_automatically

    person = Contact.objects.create(email="eva@example.nl", email_hash="e", source_kind="staff")
    original = EmailBackend.send_messages

    def slow(self, messages):
        time.sleep(0.3)  # the SMTP conversation, during which the other worker starts
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", slow)
    results = []

    def worker():
        try:
            results.append(send_automatically(person.pk, "staff"))
        except OperationalError as error:
            # SQLite's shared in-memory test database cannot wait for the lock as a
            # database file does; the worker gives up without sending, which is the point.
            assert "locked" in str(error)
            results.append(False)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, True]
    assert len(mail.outbox) == 1
    assert Activity.objects.filter(contact=person, kind=ActivityKind.MAIL).count() == 1


def test_a_failed_delivery_gives_the_claim_back_so_a_retry_sends(monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    from akkoord.notices.services import send_automatically

    person = Contact.objects.create(email="eva@example.nl", email_hash="e", source_kind="staff")
    original = EmailBackend.send_messages

    def refuse(self, messages):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
    with pytest.raises(ConnectionRefusedError):
        send_automatically(person.pk, "staff")
    person.refresh_from_db()
    assert person.informed_at is None and person.informing_since is None
    monkeypatch.setattr(EmailBackend, "send_messages", original)
    assert send_automatically(person.pk, "staff") is True
    assert len(mail.outbox) == 1


def test_a_claim_left_by_a_crashed_worker_expires(time_machine):
    from akkoord.notices.services import INFORM_CLAIM, send_automatically

    time_machine.move_to(timezone.now(), tick=False)
    person = Contact.objects.create(
        email="eva@example.nl", email_hash="e", source_kind="staff", informing_since=timezone.now()
    )
    assert send_automatically(person.pk, "staff") is False  # another worker is at it
    assert not mail.outbox
    time_machine.shift(INFORM_CLAIM + timedelta(seconds=1))
    assert send_automatically(person.pk, "staff") is True
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("source", "greeting"),
    [
        # The organisation recorded the name itself: greet by name.
        ("staff", "Beste Marieke,"),
        ("import", "Beste Marieke,"),
        # Anyone can type a name into a public form for someone else's address:
        # a mail to that address carries no words a stranger chose.
        ("form", "Beste lezer,"),
    ],
)
def test_the_privacy_confirmation_greets_by_name_only_a_name_the_organisation_recorded(
    source, greeting
):
    contact, _created = register_contact(
        {"email": "marieke@example.nl", "first_name": "Marieke"}, source_kind=source
    )
    mail.outbox.clear()
    send_privacy_confirmation(contact, language="nl")
    assert mail.outbox[0].body.startswith(greeting + "\n")


def test_service_mail_comes_from_the_organisation_by_name(contact, settings):
    settings.DEFAULT_FROM_EMAIL = "Akkoord <noreply@install.example>"
    Organisation.current()
    Organisation.objects.update(name="Fietsenwinkel Jansen", service_mail_from="")
    send_privacy_confirmation(contact, language="nl")
    sent = mail.outbox[-1].message()
    assert sent["From"] == "Fietsenwinkel Jansen <noreply@install.example>"
    Organisation.objects.update(service_mail_from="klantenservice@jansen.example")
    send_privacy_confirmation(contact, language="nl")
    sent = mail.outbox[-1].message()
    assert sent["From"] == "Fietsenwinkel Jansen <klantenservice@jansen.example>"
    assert sent["Message-ID"].endswith("@jansen.example>")
