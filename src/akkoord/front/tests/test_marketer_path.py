"""The marketer's path of the seeds, end to end, in Dutch, through the pages only.

A marketer (already set up: the organisation, its purposes, a sending domain, one
customer and one person who unsubscribed earlier) creates a sign-up form; a person
signs up and confirms from the mail catcher and gets the privacy confirmation with
a customer-centre link; the marketer writes a template without HTML, creates a
campaign for each audience, sees who is left out and why, confirms, sends; the
person opens the mail in the catcher, unsubscribes with its link, and the marketer
sees it on the contact. Mail goes through a real SMTP server (the mail catcher).

What is expected follows DOMAIN.md, not the code:
- a sign-up needs double opt-in before it counts (§2);
- customers only: the customer (soft opt-in, §3) and not the opt-in who is no customer;
- customers + opt-ins: both; opt-ins only: only the person who consented (§3);
- the person who withdrew earlier is left out of every campaign (§3).
"""

import os
import re
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from akkoord.campaigns.dkimsign import generate_private_key
from akkoord.campaigns.models import SendingDomain
from akkoord.campaigns.tests.test_browser import CHROMIUM_ARGS, sign_in
from akkoord.conftest import make_user
from akkoord.consent.ledger import record_event
from akkoord.consent.models import Purpose
from akkoord.consent.rules import EventKind
from akkoord.contacts.services import record_purchase, register_contact
from akkoord.mail.catcher import start_catcher
from akkoord.mail.models import CaughtMessage
from akkoord.organisation.models import Organisation
from akkoord.signup.tests.test_browser import free_port

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Written in Markdown in the template editor: no HTML anywhere.
TEMPLATE_TEXT = (
    "Beste {{ first_name }},\n\n## Nieuw binnen\n\nDe nieuwe **racefietsen** zijn binnen.\n"
)


@pytest.fixture
def catcher(settings):
    """The product's own mail catcher: a real SMTP server storing what it receives."""
    controller = start_catcher(free_port())
    settings.AKKOORD_SMTP_URL = f"smtp://127.0.0.1:{controller.port}"
    settings.EMAIL_BACKEND = "akkoord.mail.backends.SmtpUrlBackend"
    yield controller
    controller.stop()


@pytest.fixture
def page(settings):
    from playwright.sync_api import sync_playwright

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield browser.new_context(locale="nl-NL").new_page()
        finally:
            browser.close()
            connections.close_all()


def the_shop():
    organisation = Organisation.current()
    organisation.name = "Fietsenwinkel De Ketting"
    organisation.privacy_statement_url = "https://deketting.example/privacy"
    organisation.save()
    newsletter = Purpose.objects.create(
        key="nieuwsbrief",
        name_nl="Nieuwsbrief",
        name_en="Newsletter",
        consent_text_nl="Ja, stuur mij de nieuwsbrief.",
        consent_text_en="Yes, send me the newsletter.",
    )
    SendingDomain.objects.create(
        domain="mail.deketting.example", selector="akkoord", private_key_pem=generate_private_key()
    )
    customer, _c = register_contact(
        {"email": "klant@example.nl", "first_name": "Karel"}, source_kind="staff"
    )
    record_purchase(
        customer,
        purchased_on=timezone.localdate() - timedelta(days=30),
        description="Racefiets",
        objection_offered=True,
    )
    gone, _c = register_contact(
        {"email": "weg@example.nl", "first_name": "Wim"}, source_kind="staff"
    )
    record_event(gone, newsletter, EventKind.GRANTED, channel="staff", needs_confirmation=False)
    record_event(gone, newsletter, EventKind.WITHDRAWN, channel="staff")
    return newsletter


def read_mail(page, base: str, to: str, subject_part: str) -> str:
    """Open the newest caught mail to ``to`` whose subject has ``subject_part``, in the
    catcher's page, and return its text part as the page shows it."""
    page.goto(base + "/mail/")
    row = page.locator("tbody tr", has_text=to).filter(has_text=re.compile(subject_part, re.I))
    assert row.count(), [(m.recipients, m.subject) for m in CaughtMessage.objects.all()]
    with page.expect_navigation():
        row.first.locator("a").first.click()
    return page.locator("#text-part").inner_text()


def link_in(text: str, pattern: str) -> str:
    match = re.search(pattern, text)
    assert match, text
    return match.group(0)


def new_campaign(page, base, name, audience, mail_class):
    page.goto(base + "/campaigns/new")
    page.fill("#id_name", name)
    page.select_option("#id_purpose", label="Nieuwsbrief")
    page.select_option("#id_mail_class", mail_class)
    page.select_option("#id_audience", audience)
    page.select_option("#id_template", label="Racefietsen")
    page.select_option("#id_sending_domain", label="mail.deketting.example")
    page.fill("#id_from_name", "De Ketting")
    page.fill("#id_from_local", "nieuws")
    with page.expect_navigation():
        page.locator("form.card button[type=submit]").click()
    assert re.search(r"/campaigns/\d+/$", page.url), page.url
    return page.url


def left_out(page, campaign_url) -> set[str]:
    page.goto(campaign_url + "excluded")
    return set(page.locator("#excluded-people tbody tr td:first-child a").all_inner_texts())


def test_the_marketers_path_from_form_to_unsubscribe(live_server, settings, catcher, page):
    settings.AKKOORD_BASE_URL = live_server.url
    settings.AKKOORD_SIGNUP_MIN_SECONDS = 0
    base = live_server.url
    newsletter = the_shop()
    sign_in(page, base, make_user("marketeer@example.com", "admin"))

    # A sign-up form for the newsletter, published.
    page.goto(base + "/forms/new/")
    page.fill("#id_name", "Nieuwsbrief website")
    page.select_option("#id_language", "nl")
    page.fill("#id_title", "Blijf op de hoogte")
    page.get_by_label("Voornaam").first.check()
    page.get_by_label(re.compile("Nieuwsbrief")).check()
    page.fill("#id_thank_you_text", "Bedankt! Kijk in uw mailbox.")
    page.fill("#id_confirmed_text", "Uw aanmelding is bevestigd.")
    with page.expect_navigation():
        page.get_by_role("button", name="Opslaan als nieuwe versie").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Publiceren").click()
    form_url = page.locator("a[href*='/f/']").first.get_attribute("href")

    # A person signs up; nothing counts before the confirmation (double opt-in).
    visitor = page.context.browser.new_context(locale="nl-NL").new_page()
    visitor.goto(form_url if form_url.startswith("http") else base + form_url)
    visitor.get_by_label("E-mailadres").fill("eva@example.nl")
    visitor.get_by_label("Voornaam").fill("Eva")
    visitor.get_by_role("checkbox", name=re.compile("nieuwsbrief", re.I)).check()
    visitor.get_by_role("button", name="Aanmelden").click()
    visitor.get_by_text("Bedankt! Kijk in uw mailbox.").wait_for()

    # The marketer sees the confirmation mail in the catcher; the person confirms.
    confirmation = read_mail(page, base, "eva@example.nl", "bevestig")
    visitor.goto(link_in(confirmation, r"https?://\S+/f/confirm/\S+/"))
    visitor.get_by_role("button", name=re.compile("bevestig", re.I)).click()
    visitor.get_by_text("Uw aanmelding is bevestigd.").wait_for()
    # The privacy confirmation follows, with a link to the customer centre.
    notice = read_mail(page, base, "eva@example.nl", "gegevens")
    visitor.goto(link_in(notice, r"https?://\S+/centre/\S+/"))
    assert visitor.locator("h1").inner_text().startswith("Uw gegevens")

    # A template without HTML: a subject and a text.
    page.goto(base + "/campaigns/templates/new")
    page.fill("#id_name", "Racefietsen")
    page.fill("#id_subject_nl", "Nieuw binnen, {{ first_name }}")
    page.fill("#id_body_nl", TEMPLATE_TEXT)
    with page.expect_navigation():
        page.locator("form.card button[type=submit]").click()

    # One campaign per audience; who is left out, and why, before sending.
    expected_left_out = {
        "customers": {"Eva", "Wim"},  # Eva is no customer; Wim withdrew
        "customers_and_optins": {"Wim"},
        "optins": {"Karel", "Wim"},  # Karel never consented
    }
    mail_class = {"customers": "marketing_similar", "customers_and_optins": "marketing_similar"}
    urls = {}
    for audience, names in expected_left_out.items():
        urls[audience] = new_campaign(
            page,
            base,
            f"Racefietsen {audience}",
            audience,
            mail_class.get(audience, "marketing_other"),
        )
        assert {n.split()[0] for n in left_out(page, urls[audience])} == names, audience

    # Send the opt-ins campaign: Send asks first, with the number of people.
    page.goto(urls["optins"])
    with page.expect_navigation():
        page.get_by_role("button", name="Verzenden", exact=True).click()
    assert page.locator("#confirm-count").inner_text() == "1"
    with page.expect_navigation():
        page.locator("#confirm-send").click()
    page.goto(urls["optins"])
    assert page.locator("[data-field=sent]").inner_text() == "1"
    assert {n.split()[0] for n in left_out(page, urls["optins"])} == {"Karel", "Wim"}

    # Eva opens the mail and unsubscribes with its link.
    mail = read_mail(page, base, "eva@example.nl", "Nieuw binnen")
    assert "Beste Eva" in mail
    # The HTML part was made from the Markdown: a heading and bold text.
    html_source = page.locator("#html-source").text_content()
    assert "<strong>racefietsen</strong>" in html_source and "Nieuw binnen</h2>" in html_source
    visitor.goto(link_in(mail, r"https?://\S+/u/\S+"))
    visitor.get_by_role("button", name="Afmelden").click()
    visitor.locator("#to-centre").wait_for()

    # The marketer sees it on Eva's contact page.
    page.goto(base + "/contacts/?q=eva")
    page.get_by_role("link", name=re.compile("Eva")).first.click()
    timeline = page.locator("#timeline").locator("xpath=following-sibling::table[1]").inner_text()
    assert "Toestemming ingetrokken: Nieuwsbrief" in timeline
    # The consent history names how: through the unsubscribe link of this campaign.
    history = page.locator(f"#purpose-{newsletter.key}")
    assert "Afmeldlink" in history.inner_text()
    assert "mailing “Racefietsen optins”" in history.inner_text()
