"""Fixtures for deliverability tests: the campaign fixtures, report files, a receiver."""

import smtplib
from pathlib import Path

import pytest

from akkoord.campaigns.tests.conftest import (  # noqa: F401 - fixtures used by tests here
    free_port,
    make_campaign,
    repermission_template,
    sending_domain,
    smtp_sink,
    template,
)
from akkoord.deliverability.receiver import start_receiver

FIXTURES = Path(__file__).parent / "fixtures"


def report_mail(name: str, *, envelope: str, rcpt: str, message_id: str) -> bytes:
    """A report fixture filled in for one delivery, with CRLF line ends as on the wire."""
    text = (FIXTURES / f"{name}.eml").read_text()
    text = text.replace("{ENVELOPE}", envelope).replace("{RCPT}", rcpt)
    text = text.replace("{MSGID}", message_id)
    return text.replace("\n", "\r\n").encode()


@pytest.fixture
def bounce_settings(settings):
    settings.AKKOORD_BOUNCE_DOMAIN = "bounce.example.com"
    settings.AKKOORD_BOUNCE_LOCAL_PART = "bounces"
    return settings


@pytest.fixture
def receiver(bounce_settings, transactional_db):
    """The built-in receiver on a free port; ``send(rcpt, raw)`` delivers to it by SMTP."""
    port = free_port()
    controller = start_receiver("127.0.0.1", port)

    class Receiver:
        def send(self, rcpt: str, raw: bytes) -> None:
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
                client.sendmail("", [rcpt], raw)

    yield Receiver()
    controller.stop()
