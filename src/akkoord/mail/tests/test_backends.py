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
