"""Fixtures for campaign tests: a DKIM key, a sending domain, a template, an SMTP sink."""

import email
import email.policy
import functools
import logging
import random
import socket
import threading
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from akkoord.campaigns.dkimsign import generate_private_key, public_record
from akkoord.campaigns.models import Campaign, MailTemplate, SendingDomain
from akkoord.consent.ledger import record_event
from akkoord.consent.models import Suppression
from akkoord.consent.rules import EventKind
from akkoord.contacts.models import Contact
from akkoord.contacts.services import record_purchase, register_contact


@functools.cache
def dkim_test_key() -> str:
    return generate_private_key()


def stub_dns(name, timeout=5):
    """dkimpy's DNS hook: our test key for our selector, nothing else."""
    if name == b"akkoord._domainkey.mail.example.com.":
        return public_record(dkim_test_key()).encode()
    return None


# aiosmtpd logs every SMTP command at INFO: far too slow for thousands of messages.
logging.getLogger("mail.log").setLevel(logging.WARNING)


class Sink:
    """An in-process SMTP server that keeps every message it accepts."""

    def __init__(self):
        self.messages: list[tuple[list[str], bytes]] = []
        self.lock = threading.Lock()
        self.refuse: dict[str, str] = {}
        self.connections = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"

    def recipients(self) -> list[str]:
        return [rcpt for rcpts, _raw in self.messages for rcpt in rcpts]

    def parsed(self):
        return [
            email.message_from_bytes(raw, policy=email.policy.default)
            for _rcpts, raw in self.messages
        ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_sink():
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    sink.url = f"smtp://127.0.0.1:{port}"
    yield sink
    controller.stop()


@pytest.fixture
def sending_domain(db):
    return SendingDomain.objects.create(
        domain="mail.example.com", selector="akkoord", private_key_pem=dkim_test_key()
    )


@pytest.fixture
def template(db):
    return MailTemplate.objects.create(
        name="Autumn",
        subject_nl="Herfst bij ons, {{ first_name }}",
        text_nl="Beste {{ full_name|default:'klant' }},\n\nNieuwe wandelschoenen.\n",
        html_nl=(
            "<html><head><style>p { color: #333 } @media (max-width: 600px) "
            "{ p { font-size: 18px } }</style></head>"
            "<body><p>Beste {{ first_name }},</p><p>Nieuwe wandelschoenen.</p></body></html>"
        ),
        subject_en="Autumn with us, {{ first_name }}",
        text_en="Dear {{ full_name|default:'customer' }},\n\nNew hiking boots.\n",
        html_en="<html><body><p>Dear {{ first_name }},</p></body></html>",
    )


@pytest.fixture
def repermission_template(db):
    """A re-permission mail with the Yes and No links in both languages and parts."""
    return MailTemplate.objects.create(
        name="Blijft u?",
        subject_nl="Wilt u onze nieuwsbrief blijven ontvangen?",
        text_nl="Beste {{ first_name }},\n\nNieuwe wandelschoenen.\nJa: {{ yes_url }}\nNee: {{ no_url }}\n",
        html_nl=(
            "<html><body><p>Nieuwe wandelschoenen.</p>"
            '<p><a href="{{ yes_url }}">Ja</a> <a href="{{ no_url }}">Nee</a></p></body></html>'
        ),
        subject_en="Do you want to keep receiving our newsletter?",
        text_en="Dear {{ first_name }},\n\nNew hiking boots.\nYes: {{ yes_url }}\nNo: {{ no_url }}\n",
        html_en=(
            '<html><body><p><a href="{{ yes_url }}">Yes</a> '
            '<a href="{{ no_url }}">No</a></p></body></html>'
        ),
    )


@pytest.fixture
def make_campaign(db, sending_domain, template, repermission_template, marketer):
    def make(purpose, mail_class="marketing_similar", audience="customers_and_optins", **extra):
        extra.setdefault(
            "template", repermission_template if mail_class == "repermission" else template
        )
        return Campaign.objects.create(
            name="Test",
            purpose=purpose,
            mail_class=mail_class,
            audience=audience or "",
            sending_domain=sending_domain,
            from_name="Wandelwinkel",
            from_local="nieuws",
            created_by=marketer,
            **extra,
        )

    return make


def grant(contact, purpose, confirmed=True):
    event = record_event(contact, purpose, EventKind.GRANTED, channel="staff", proof={"text": "ja"})
    if confirmed and event.needs_confirmation:
        record_event(contact, purpose, EventKind.CONFIRMED, channel="form", confirms_seq=event.seq)
    return event


def make_population(purpose, size, seed=7):
    """Contacts in every state the engine distinguishes, chosen at random."""
    rng = random.Random(seed)
    today = timezone.localdate()
    people = []
    for index in range(size):
        contact, _created = register_contact(
            {
                "email": f"person{index}@example.org",
                "first_name": f"P{index}",
                "language": rng.choice(["nl", "en"]),
            },
            source_kind="staff",
            actor="test",
        )
        consent = rng.choice(["none", "none", "granted", "pending", "withdrawn", "unproven"])
        if consent in ("granted", "withdrawn"):
            grant(contact, purpose)
        if consent == "pending":
            grant(contact, purpose, confirmed=False)
        if consent == "withdrawn":
            record_event(contact, purpose, EventKind.WITHDRAWN, channel="centre")
        if consent == "unproven":
            record_event(contact, purpose, EventKind.UNPROVEN, channel="import")
        purchase = rng.choice(["none", "recent", "recent", "old"])
        if purchase != "none":
            days = 30 if purchase == "recent" else 365 * 5
            record_purchase(
                contact,
                purchased_on=today - timedelta(days=days),
                description="boots",
                objection_offered=rng.random() < 0.8,
            )
        extra = rng.random()
        if extra < 0.08:
            record_event(contact, None, EventKind.OBJECTED, channel="centre")
        elif extra < 0.12:
            Contact.objects.filter(pk=contact.pk).update(hard_bounced_at=timezone.now())
        elif extra < 0.15:
            Contact.objects.filter(pk=contact.pk).update(complained_at=timezone.now())
        elif extra < 0.18:
            Suppression.objects.create(email_hash=contact.email_hash, reason="erased")
        people.append(contact)
    return people
