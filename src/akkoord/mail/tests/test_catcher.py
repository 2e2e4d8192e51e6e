"""The local mail catcher stores what it receives, so nothing leaves the machine."""

import smtplib
import socket
from email.message import EmailMessage

import pytest

from akkoord.mail.catcher import start_catcher
from akkoord.mail.models import CaughtMessage


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def catcher(transactional_db):
    port = _free_port()
    controller = start_catcher(port)
    yield port
    controller.stop()


def test_the_catcher_stores_a_message_with_sender_recipients_and_subject(catcher):
    message = EmailMessage()
    message["From"] = "Fietsenwinkel <winkel@example.nl>"
    message["To"] = "anna@example.nl"
    message["Subject"] = "Bevestig je aanmelding – De Ketting"
    message.set_content("Klik op de link.")
    with smtplib.SMTP("127.0.0.1", catcher, timeout=10) as smtp:
        smtp.send_message(message, to_addrs=["anna@example.nl", "bcc@example.nl"])
    caught = CaughtMessage.objects.get()
    assert caught.mail_from == "winkel@example.nl"
    assert caught.recipients.split("\n") == ["anna@example.nl", "bcc@example.nl"]
    assert caught.subject == "Bevestig je aanmelding – De Ketting"
    assert b"Klik op de link." in bytes(caught.raw)


def test_the_catcher_receives_mail_sent_by_django(catcher, settings):
    from django.core.mail import get_connection, send_mail

    settings.AKKOORD_SMTP_URL = f"smtp://127.0.0.1:{catcher}"
    connection = get_connection("akkoord.mail.backends.SmtpUrlBackend")
    send_mail("Onderwerp", "Tekst", "a@example.nl", ["b@example.nl"], connection=connection)
    assert list(CaughtMessage.objects.values_list("subject", flat=True)) == ["Onderwerp"]
