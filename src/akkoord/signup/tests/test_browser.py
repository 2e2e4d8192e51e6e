"""A person signs up through an embed on another website, in a real browser."""

import email
import os
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from django.core.cache import cache
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from akkoord.conftest import make_user, signed_in_client
from akkoord.consent.models import ConsentEvent, ConsentState, Purpose
from akkoord.consent.rules import ConsentStatus, EventKind
from akkoord.contacts.models import Contact
from akkoord.organisation.models import Organisation
from akkoord.signup.models import FormVersion, SignupForm
from akkoord.signup.views import snippets

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10):
        deadline = time.time() + timeout
        while len(self.messages) < count and time.time() < deadline:
            time.sleep(0.05)
        assert len(self.messages) >= count, self.messages
        return self.messages[count - 1]


def text_of(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text part")


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.AKKOORD_SMTP_URL = f"smtp://127.0.0.1:{controller.port}"
    settings.EMAIL_BACKEND = "akkoord.mail.backends.SmtpUrlBackend"
    yield inbox
    controller.stop()


@pytest.fixture
def other_site():
    """A website on another origin (127.0.0.1 vs the live server's localhost)."""
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = pages.get(self.path, "not found").encode()
            self.send_response(200 if self.path in pages else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield pages, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
            # The test's connection would otherwise stay open past the test
            # database's teardown, which PostgreSQL then refuses to drop.
            connections.close_all()


def published_form(live_server):
    newsletter = Purpose.objects.create(
        key="nieuwsbrief",
        name_nl="Nieuwsbrief",
        name_en="Newsletter",
        consent_text_nl="Ja, stuur mij de maandelijkse nieuwsbrief.",
        consent_text_en="Yes, send me the monthly newsletter.",
    )
    Purpose.objects.create(
        key="partners",
        name_nl="Partners",
        name_en="Partners",
        consent_text_nl="Aanbiedingen van partners.",
        consent_text_en="Partner offers.",
    )
    organisation = Organisation.current()
    organisation.name = "Fietsenwinkel Jansen"
    organisation.privacy_statement_url = "https://fietsen.example/privacy"
    organisation.save()
    form = SignupForm.objects.create(name="Nieuwsbrief", is_published=True)
    version = FormVersion.objects.create(
        form=form,
        number=1,
        language="en",
        title="Join our newsletter",
        fields=[{"key": "first_name", "required": False}],
        purposes=[
            {
                "id": newsletter.pk,
                "key": newsletter.key,
                "name": "Newsletter",
                "text": newsletter.consent_text_en,
            }
        ],
        thank_you_text="Thanks! Check your inbox.",
        confirmed_text="Your subscription is confirmed.",
        published_at=timezone.now(),
    )
    form.current_version = version
    form.save()
    return form, version, newsletter


def test_embedded_form_on_another_origin_double_opt_in_end_to_end(
    live_server, settings, smtp, other_site, browser
):
    cache.clear()
    settings.AKKOORD_BASE_URL = live_server.url.replace("127.0.0.1", "localhost")
    settings.AKKOORD_SIGNUP_MIN_SECONDS = 1
    base = settings.AKKOORD_BASE_URL
    form, version, newsletter = published_form(live_server)
    pages, origin = other_site
    pages["/script.html"] = (
        "<!doctype html><html lang=en><head><title>Shop</title></head><body><h1>Our shop</h1>"
        f'<div data-akkoord-form="{base}/f/{form.public_key}/"><a href="{base}/f/{form.public_key}/">Sign up</a></div>'
        f'<script src="{base}/static/signup/embed.js" defer></script></body></html>'
    )

    page = browser.new_page(user_agent="PlaywrightChromium/1.0")
    problems = []
    page.on("console", lambda msg: problems.append(msg.text))
    page.on("requestfailed", lambda req: problems.append(f"{req.url} {req.failure}"))
    page.goto(origin + "/script.html")
    try:
        page.wait_for_selector("form[data-akkoord-signup]", timeout=10000)
    except Exception:
        raise AssertionError((problems, page.content())) from None
    page.get_by_label("E-mail address").fill("eva@example.nl")
    page.get_by_label("First name").fill("Visit evil.example")
    page.get_by_role("checkbox", name=re.compile("Newsletter")).check()
    time.sleep(1.1)
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("status").filter(has_text="Thanks! Check your inbox.").wait_for()

    recipients, message = smtp.wait_for(1)
    assert recipients == ["eva@example.nl"]
    body = text_of(message)
    assert "evil.example" not in body and "evil.example" not in message["Subject"]
    link = re.search(r"https?://\S+/f/confirm/\S+/", body).group(0)
    contact = Contact.objects.get(email="eva@example.nl")
    assert (
        ConsentState.objects.get(contact=contact, purpose=newsletter).status
        == ConsentStatus.PENDING
    )

    page.goto(link)
    page.get_by_role("button", name="Yes, confirm").click()
    page.get_by_text("Your subscription is confirmed.").wait_for()

    state = ConsentState.objects.get(contact=contact, purpose=newsletter)
    assert state.status == ConsentStatus.GRANTED and state.confirmed_at is not None
    grant = ConsentEvent.objects.get(subject_key=contact.ledger_key, kind=EventKind.GRANTED)
    proof = grant.proof.data
    assert proof["ip"] == "127.0.0.1"
    assert proof["user_agent"] == "PlaywrightChromium/1.0"
    assert proof["page_url"] == origin + "/script.html"
    assert proof["form_id"] == form.pk and proof["form_version"] == 1
    assert proof["consent_text"] == "Yes, send me the monthly newsletter."
    assert proof["privacy_statement_url"] == "https://fietsen.example/privacy"
    assert grant.channel_ref == f"form:{form.pk}:v1" and grant.privacy_statement_version
    confirmation = ConsentEvent.objects.get(
        subject_key=contact.ledger_key, kind=EventKind.CONFIRMED
    )
    assert confirmation.confirms_seq == grant.seq
    assert confirmation.proof.data["ip"] == "127.0.0.1" and confirmation.proof.data["confirmed_at"]

    # The privacy confirmation followed the confirmation, not the sign-up.
    recipients, notice = smtp.wait_for(2)
    assert "/centre/" in text_of(notice)

    # The staff contact page shows the confirmed consent with its proof.
    staff = signed_in_client(make_user("staff@example.com", "marketer"))
    html = staff.get(reverse("contacts:detail", args=[contact.pk])).content.decode()
    for value in (
        "127.0.0.1",
        "PlaywrightChromium/1.0",
        origin + "/script.html",
        "Yes, send me the monthly newsletter.",
        "https://fietsen.example/privacy",
        # The form by its name and version, not as the stored reference form:N:v1.
        "Nieuwsbrief (versie 1)",
    ):
        assert value in html, value
    assert "bevestigd" in html  # the staff user's language (Dutch by default)
    page.close()


def test_plain_html_embed_without_script_ignores_forced_boxes(
    live_server, settings, smtp, other_site, browser
):
    cache.clear()
    settings.AKKOORD_BASE_URL = live_server.url.replace("127.0.0.1", "localhost")
    form, version, newsletter = published_form(live_server)
    partners = Purpose.objects.get(key="partners")
    pages, origin = other_site
    plain = snippets(form, None)["plain_html"]
    pages["/plain.html"] = f"<!doctype html><html lang=en><body><h1>Shop</h1>{plain}</body></html>"

    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(origin + "/plain.html")
    page.get_by_label("E-mail address").fill("piet@example.nl")
    # Someone adds boxes: one for a purpose this form never showed (ignored), and one
    # for the newsletter, which the server cannot tell from a real tick: the double
    # opt-in mail stands between it and a consent.
    page.locator("form").evaluate(
        """f => { for (const v of ['partners', 'nieuwsbrief']) {
             const i = document.createElement('input'); i.type = 'hidden'; i.name = 'purpose';
             i.value = v; f.appendChild(i); } }"""
    )
    page.get_by_role("button", name="Sign up").click()
    page.get_by_text("Thanks! Check your inbox.").wait_for()
    contact = Contact.objects.get(email="piet@example.nl")
    assert not ConsentState.objects.filter(contact=contact, purpose=partners).exists()
    assert (
        ConsentState.objects.get(contact=contact, purpose=newsletter).status
        == ConsentStatus.PENDING
    )
    smtp.wait_for(1)
    context.close()


def test_a_box_forced_to_on_or_a_missing_purpose_field_records_no_consent(
    live_server, settings, smtp, other_site, browser
):
    cache.clear()
    settings.AKKOORD_BASE_URL = live_server.url.replace("127.0.0.1", "localhost")
    settings.AKKOORD_SIGNUP_MIN_SECONDS = 1
    base = settings.AKKOORD_BASE_URL
    form, version, newsletter = published_form(live_server)
    partners = Purpose.objects.get(key="partners")
    version.purposes = [
        *version.purposes,
        {"id": partners.pk, "key": "partners", "name": "Partners", "text": "Partner offers."},
    ]
    version.save()
    pages, origin = other_site
    pages["/script.html"] = (
        "<!doctype html><html lang=en><head><title>Shop</title></head><body>"
        f'<div data-akkoord-form="{base}/f/{form.public_key}/"></div>'
        f'<script src="{base}/static/signup/embed.js" defer></script></body></html>'
    )

    def open_form():
        page = browser.new_page()
        page.goto(origin + "/script.html")
        page.wait_for_selector("form[data-akkoord-signup]", timeout=10000)
        return page

    # Ticks the newsletter only; a script forces the partners box to "on" and ticks it.
    page = open_form()
    page.get_by_label("E-mail address").fill("eva@example.nl")
    page.get_by_role("checkbox", name=re.compile("Newsletter")).check()
    page.get_by_role("checkbox", name=re.compile("Partners")).evaluate(
        "box => { box.value = 'on'; box.checked = true; }"
    )
    time.sleep(1.1)
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("status").filter(has_text="Thanks! Check your inbox.").wait_for()
    contact = Contact.objects.get(email="eva@example.nl")
    assert not ConsentState.objects.filter(contact=contact, purpose=partners).exists()
    assert (
        ConsentState.objects.get(contact=contact, purpose=newsletter).status
        == ConsentStatus.PENDING
    )
    assert ConsentEvent.objects.filter(subject_key=contact.ledger_key).count() == 1
    page.close()

    # The purpose fields are removed altogether: a clear, announced error, nothing stored.
    page = open_form()
    page.get_by_label("E-mail address").fill("piet@example.nl")
    page.locator("input[name=purpose]").evaluate_all("boxes => boxes.forEach(b => b.remove())")
    time.sleep(1.1)
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("alert").filter(has_text="Please correct the marked fields.").wait_for()
    assert (
        "Tick at least one box to sign up."
        in page.locator("[data-error-for=purposes]").inner_text()
    )
    assert not Contact.objects.filter(email="piet@example.nl").exists()
    assert len(smtp.messages) == 1  # only Eva's confirmation request
    page.close()
