"""The receiver as its own process (`akkoord bounce_receiver`) and inside `akkoord serve`."""

import smtplib
import subprocess
import sys
import time

import pytest

from akkoord.campaigns.tests.conftest import free_port
from akkoord.deliverability import verp
from akkoord.deliverability.tests.conftest import report_mail
from akkoord.front.management.commands.serve import Command as Serve
from akkoord.front.tests.subprocess_env import clean_environment

OUT_OF_OFFICE = report_mail(
    "out_of_office",
    envelope="bounces@bounce.example.com",
    rcpt="jan@example.nl",
    message_id="<x@y>",
)


def connect(port, deadline_seconds=120):
    """The receiver's process starts Django first: wait for its port, generously."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        try:
            return smtplib.SMTP("127.0.0.1", port, timeout=30)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_bounce_receiver_runs_as_its_own_process_and_stops_on_sigterm(tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "akkoord", "bounce_receiver", "--listen", f"127.0.0.1:{port}"],
        env=clean_environment(AKKOORD_DATA_DIR=str(tmp_path), PYTHONUNBUFFERED="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        with connect(port) as client:
            # An automatic reply to the bounce address is taken and dropped (no database needed).
            client.sendmail("", ["bounces@bounce.example.com"], OUT_OF_OFFICE)
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                client.sendmail("", ["someone@bounce.example.com"], b"Subject: x\r\n\r\nx\r\n")
        process.terminate()
        output, _ = process.communicate(timeout=60)
        assert process.returncode == 0, output
        assert "listening on 127.0.0.1" in output and "stopped" in output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_starts_the_receiver_only_when_configured(settings):
    settings.AKKOORD_BOUNCE_RECEIVER = ""
    receiver, line = Serve()._start_bounce_receiver()
    assert receiver is None and "not started" in line
    port = free_port()
    settings.AKKOORD_BOUNCE_RECEIVER = f"127.0.0.1:{port}"
    settings.AKKOORD_BOUNCE_DOMAIN = "bounce.example.com"
    receiver, line = Serve()._start_bounce_receiver()
    try:
        assert f"127.0.0.1:{port}" in line
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            client.ehlo()
            client.mail("")
            code, _ = client.rcpt(f"bounces+{verp.make_token(5)}@bounce.example.com")
            assert code == 250
    finally:
        receiver.stop()


def test_serve_refuses_a_malformed_receiver_address(settings):
    from django.core.management.base import CommandError

    settings.AKKOORD_BOUNCE_RECEIVER = "no-port-here"
    with pytest.raises(CommandError, match="host:port"):
        Serve()._start_bounce_receiver()
