"""A pending sign-up counts its confirmation mail as sent only once the mail
server took it: a refusal or a crash before the send leaves it unmarked, and
the person's retry sends the mail (real aiosmtpd servers, a real killed process)."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from aiosmtpd.controller import Controller

from akkoord.campaigns.tests.conftest import Sink, free_port
from akkoord.front.tests.subprocess_env import clean_environment
from akkoord.signup import services
from akkoord.signup.models import PendingSignup
from akkoord.signup.services import sign_up
from akkoord.signup.tests.conftest import PROOF

ADDRESS = "eva@example.nl"
DEADLINE = 90


@pytest.fixture
def real_smtp(settings):
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "akkoord.mail.backends.SmtpUrlBackend"
    settings.AKKOORD_SMTP_URL = f"smtp://127.0.0.1:{port}"
    yield sink
    controller.stop()


def submit(version):
    return sign_up(version, {"email": ADDRESS, "purposes": ["nieuwsbrief"]}, **PROOF)


def test_a_refused_confirmation_mail_is_not_marked_sent_and_the_retry_sends_it(version, real_smtp):
    real_smtp.refuse[ADDRESS] = "451 try again later"
    first = submit(version)
    assert first.mail_failed and not first.mail_sent
    assert PendingSignup.objects.get().mail_sent_at is None
    assert real_smtp.messages == []

    del real_smtp.refuse[ADDRESS]
    retry = submit(version)
    assert retry.mail_sent
    assert real_smtp.recipients() == [ADDRESS]
    assert PendingSignup.objects.get().mail_sent_at is not None
    # Sent now: a third submission within the window sends nothing more.
    assert not submit(version).mail_sent
    assert real_smtp.recipients() == [ADDRESS]


def test_a_mail_being_sent_by_a_live_request_is_not_sent_twice(version, real_smtp):
    first = submit(version)  # to create the contact and its pending sign-up
    PendingSignup.objects.update(mail_sent_at=None)
    # Another request of this (live) process holds the claim: it is sending now.
    assert services._claim_mail(first.pending.contact)
    second = submit(version)
    assert not second.mail_sent and not second.mail_failed
    assert real_smtp.recipients() == [ADDRESS]


SETUP = """
import django
django.setup()
from django.core.management import call_command
call_command("createcachetable")
from akkoord.consent.models import Purpose
from akkoord.signup.tests.conftest import make_form
purpose = Purpose.objects.create(
    key="nieuwsbrief", name_nl="Nieuwsbrief", name_en="Newsletter",
    consent_text_nl="Ja, stuur mij de nieuwsbrief.", consent_text_en="Yes, the newsletter.",
    double_opt_in=True,
)
make_form([purpose])
"""

SIGN_UP = """
import json, django
django.setup()
from akkoord.signup.models import FormVersion
from akkoord.signup.services import sign_up
result = sign_up(
    FormVersion.objects.get(), {"email": "eva@example.nl", "purposes": ["nieuwsbrief"]},
    ip="192.0.2.10", user_agent="TestBrowser/1.0", page_url="https://shop.example/news",
)
print(json.dumps({"mail_sent": result.mail_sent, "mail_failed": result.mail_failed}))
"""


class HoldingSink(Sink):
    """Holds the first recipient until released: the sender is in the middle of its send."""

    def __init__(self):
        super().__init__()
        self.holding = threading.Event()
        self.released = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if not self.released.is_set():
            self.holding.set()
            while not self.released.is_set():
                await asyncio.sleep(0.05)
            return "451 the sender went away"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


def test_a_sign_up_killed_during_its_send_is_not_marked_sent_and_the_retry_sends(tmp_path):
    db = tmp_path / "signup.sqlite3"
    sink = HoldingSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    env = clean_environment(
        DATABASE_URL=f"sqlite:///{db}",
        AKKOORD_DATA_DIR=str(tmp_path / "data"),
        AKKOORD_TASK_BACKEND="immediate",
        AKKOORD_SMTP_URL=f"smtp://127.0.0.1:{port}",
        AKKOORD_BASE_URL="https://akkoord.example.com",
        AKKOORD_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="akkoord.settings",
    )
    python = sys.executable
    crashed = None
    try:
        subprocess.run(
            [python, "-m", "akkoord", "migrate", "-v0", "--skip-checks"], env=env, check=True
        )
        subprocess.run([python, "-c", SETUP], env=env, check=True)
        crashed = subprocess.Popen([python, "-c", SIGN_UP], env=env, stdout=subprocess.DEVNULL)
        end = time.monotonic() + DEADLINE
        while not sink.holding.is_set():
            assert crashed.poll() is None, "the sign-up ended before it reached the send"
            assert time.monotonic() < end, "the sign-up never reached the mail server"
            time.sleep(0.05)
        os.kill(crashed.pid, signal.SIGKILL)
        crashed.wait(timeout=30)
        sink.released.set()

        retry = subprocess.run(
            [python, "-c", SIGN_UP], env=env, check=True, capture_output=True, text=True
        )
        assert json.loads(retry.stdout.strip().splitlines()[-1]) == {
            "mail_sent": True,
            "mail_failed": False,
        }
        assert sink.recipients() == [ADDRESS], "the retry sent the confirmation mail"
    finally:
        sink.released.set()
        if crashed is not None and crashed.poll() is None:
            crashed.kill()
            crashed.wait()
        controller.stop()


pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::ResourceWarning")]
