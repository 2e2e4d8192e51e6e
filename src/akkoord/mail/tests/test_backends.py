"""AKKOORD_SMTP_URL: one URL, and never plain text to a remote server."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from akkoord.mail.backends import SmtpUrlBackend, parse_smtp_url


def test_starttls_url_is_parsed_with_credentials_and_default_port():
    config = parse_smtp_url("smtp+starttls://mailer%40shop.nl:p%40ss%3Aword@smtp.shop.nl")
    assert config == {
        "host": "smtp.shop.nl",
        "port": 587,
        "username": "mailer@shop.nl",
        "password": "p@ss:word",
        "use_tls": True,
        "use_ssl": False,
    }


def test_smtps_url_uses_implicit_tls_and_its_port():
    config = parse_smtp_url("smtps://user:pw@smtp.shop.nl:2465")
    assert config["use_ssl"] and not config["use_tls"]
    assert config["port"] == 2465
    assert parse_smtp_url("smtps://smtp.shop.nl")["port"] == 465


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_plain_smtp_is_allowed_to_this_machine(host):
    config = parse_smtp_url(f"smtp://{host}:1025")
    assert config["port"] == 1025
    assert not config["use_tls"] and not config["use_ssl"]


@pytest.mark.parametrize(
    "url", ["smtp://smtp.shop.nl:25", "smtp://10.0.0.5:1025", "SMTP://mail.example.com"]
)
def test_plain_smtp_to_a_remote_server_is_refused(url):
    with pytest.raises(ImproperlyConfigured, match="encrypted"):
        parse_smtp_url(url)


@pytest.mark.parametrize("url", ["http://smtp.shop.nl", "smtp.shop.nl:587", ""])
def test_unknown_schemes_are_refused(url):
    with pytest.raises(ImproperlyConfigured, match="must start with"):
        parse_smtp_url(url)


def test_a_url_without_host_is_refused():
    with pytest.raises(ImproperlyConfigured, match="host"):
        parse_smtp_url("smtps://")


def test_the_backend_takes_its_configuration_from_the_url(settings):
    settings.AKKOORD_SMTP_URL = "smtp+starttls://u:p@smtp.shop.nl:2587"
    backend = SmtpUrlBackend()
    assert (backend.host, backend.port, backend.username, backend.password) == (
        "smtp.shop.nl",
        2587,
        "u",
        "p",
    )
    assert backend.use_tls and not backend.use_ssl


def test_the_backend_refuses_a_remote_plain_url(settings):
    settings.AKKOORD_SMTP_URL = "smtp://smtp.shop.nl"
    with pytest.raises(ImproperlyConfigured):
        SmtpUrlBackend()


class _Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


def _server(smtputf8: bool):
    from aiosmtpd.controller import Controller

    from akkoord.signup.tests.test_browser import free_port

    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=smtputf8)
    controller.start()
    return inbox, controller


@pytest.mark.django_db
@pytest.mark.parametrize("address", ["ëve@example.nl", "用户@例子.广告"])
def test_a_service_mail_to_a_non_ascii_local_part_reaches_that_very_address(settings, address):
    """RFC 6531: the raw UTF-8 address in the envelope and in To, never an encoded word."""
    from email import message_from_bytes, policy

    from akkoord.mail.outgoing import send_service_mail

    inbox, controller = _server(smtputf8=True)
    try:
        settings.AKKOORD_SMTP_URL = f"smtp://127.0.0.1:{controller.port}"
        settings.EMAIL_BACKEND = "akkoord.mail.backends.SmtpUrlBackend"
        send_service_mail(to=address, subject="Bevestig uw aanmelding", text="Hallo")
    finally:
        controller.stop()
    (envelope,) = inbox.envelopes
    local, domain = address.split("@")
    expected = f"{local}@{domain.encode('idna').decode()}"
    assert envelope.rcpt_tos == [expected]
    assert "SMTPUTF8" in envelope.mail_options
    message = message_from_bytes(envelope.original_content, policy=policy.SMTPUTF8)
    assert message["To"] == expected
    assert "=?utf-8?" not in envelope.original_content.decode("utf-8").split("\r\n\r\n")[0].lower()


@pytest.mark.django_db
def test_a_server_without_smtputf8_is_an_error_not_a_misdelivery(settings):
    import smtplib

    from akkoord.mail.outgoing import send_service_mail

    inbox, controller = _server(smtputf8=False)
    try:
        settings.AKKOORD_SMTP_URL = f"smtp://127.0.0.1:{controller.port}"
        settings.EMAIL_BACKEND = "akkoord.mail.backends.SmtpUrlBackend"
        with pytest.raises(smtplib.SMTPNotSupportedError):
            send_service_mail(to="ëve@example.nl", subject="x", text="y")
        # An ASCII address still goes out as before.
        send_service_mail(to="eva@example.nl", subject="x", text="y")
    finally:
        controller.stop()
    assert [e.rcpt_tos for e in inbox.envelopes] == [["eva@example.nl"]]
