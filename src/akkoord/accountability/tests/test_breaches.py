"""The breach register: the 72-hour deadline and notifying affected persons."""

from datetime import UTC, datetime, timedelta

import time_machine
from django.core import mail

from akkoord.accountability import breaches, tasks
from akkoord.accountability.models import Breach, BreachNotice
from akkoord.consent.ledger import record_event
from akkoord.consent.models import Channel
from akkoord.consent.rules import EventKind
from akkoord.contacts.models import Activity, ActivityKind
from akkoord.contacts.services import register_contact

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _breach(**extra) -> Breach:
    return Breach.objects.create(title="Lost laptop", nature="A laptop was stolen.", **extra)


def test_deadline_is_72_hours_after_awareness_and_overdue_after(db):
    with time_machine.travel(START, tick=False):
        breach = _breach()
        assert breach.deadline == START + timedelta(hours=72)
        assert not breach.is_overdue()
        assert breach.time_left() == timedelta(hours=72)
    with time_machine.travel(START + timedelta(hours=71, minutes=59), tick=False):
        assert not breach.is_overdue()
    with time_machine.travel(START + timedelta(hours=72, seconds=1), tick=False):
        assert breach.is_overdue()
        breach.authority_notified_at = START + timedelta(hours=73)
        assert not breach.is_overdue()


def _people(purpose, count):
    people = []
    for i in range(count):
        person, _created = register_contact(
            {"email": f"affected{i}@example.nl", "language": "en" if i % 2 else "nl"},
            source_kind="staff",
            actor="t",
        )
        record_event(
            person, purpose, EventKind.GRANTED, channel=Channel.STAFF, needs_confirmation=False
        )
        people.append(person)
    return people


def _texts():
    return {
        "person_subject_nl": "Datalek bij ons",
        "person_text_nl": "Uw gegevens zijn mogelijk ingezien.",
        "person_subject_en": "A data breach",
        "person_text_en": "Your data may have been seen.",
    }


def test_affected_persons_each_get_one_archived_mail(newsletter, product_updates, contact):
    people = _people(newsletter, 3)
    breach = _breach(affected_purpose=newsletter, **_texts())
    assert breaches.affected_contacts(breach).count() == 3
    assert tasks.start_notification(breach, actor="alice@example.com") is False
    assert len(mail.outbox) == 3
    assert all(len(m.to) == 1 and not m.cc for m in mail.outbox)
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects["affected0@example.nl"] == "Datalek bij ons"
    assert subjects["affected1@example.nl"] == "A data breach"
    for person in people:
        assert Activity.objects.filter(contact=person, kind=ActivityKind.MAIL).count() == 1
    breach.refresh_from_db()
    assert breach.persons_notified == 3
    # Running again sends nothing twice.
    assert breaches.notify_affected(breach.pk) == 0
    assert len(mail.outbox) == 3 and BreachNotice.objects.count() == 3


def test_large_numbers_go_through_the_task(newsletter, monkeypatch):
    monkeypatch.setattr(tasks, "BACKGROUND_ABOVE", 1)
    _people(newsletter, 2)
    breach = _breach(affected_all=True, **_texts())
    assert tasks.start_notification(breach, actor="alice@example.com") is True
    assert len(mail.outbox) == 2


def test_no_mail_without_texts_in_both_languages(newsletter):
    _people(newsletter, 1)
    breach = _breach(affected_all=True, person_subject_nl="x", person_text_nl="y")
    assert not breaches.can_notify(breach)
    assert breaches.notify_affected(breach.pk) == 0
    assert mail.outbox == []
