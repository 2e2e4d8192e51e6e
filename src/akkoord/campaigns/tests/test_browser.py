"""A marketer in Chromium: a re-permission mail without Yes and No cannot be saved or sent,
and editing a campaign keeps its answer deadline, in Dutch and in English."""

import os
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from akkoord.accounts.tests.conftest import code_for
from akkoord.campaigns.models import Campaign, CampaignStatus, Delivery, MailTemplate
from akkoord.conftest import PASSWORD, make_user
from akkoord.consent.ledger import record_event
from akkoord.consent.rules import EventKind
from akkoord.contacts.services import register_contact

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

# What the page says, per language of the browser.
SAYS = {
    "nl": {
        "yes_missing": "De Ja-link ({{ yes_url }}) ontbreekt in het tekstgedeelte in het Nederlands.",
        "no_missing_html": "De Nee-link ({{ no_url }}) ontbreekt in het HTML-gedeelte in het Engels.",
    },
    "en": {
        "yes_missing": "The Yes link ({{ yes_url }}) is missing from the plain-text part in Dutch.",
        "no_missing_html": "The No link ({{ no_url }}) is missing from the HTML part in English.",
    },
}


@pytest.fixture
def page_in(settings):
    """A Chromium page whose browser asks for ``language``."""
    from playwright.sync_api import sync_playwright

    # Argon2 is deliberately slow; one sign-in per test does not need it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield lambda language: browser.new_context(locale=language).new_page()
        finally:
            browser.close()
            # The test's connection would otherwise stay open past the test
            # database's teardown, which PostgreSQL then refuses to drop.
            connections.close_all()


def sign_in(page, base_url, user):
    page.goto(base_url + "/account/sign-in/")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("section.card form button[type=submit]").click()
    page.fill("input[name=code]", code_for(TOTPDevice.objects.get(user=user)))
    page.locator("section.card form button[type=submit]").first.click()
    assert "/sign-in" not in page.url


def fill_campaign(page, newsletter, template, sending_domain, deadline):
    page.fill("#id_name", "Blijft u?")
    page.select_option("#id_purpose", str(newsletter.pk))
    page.select_option("#id_mail_class", "repermission")
    page.select_option("#id_template", str(template.pk))
    page.select_option("#id_sending_domain", str(sending_domain.pk))
    page.fill("#id_from_name", "Wandelwinkel")
    page.fill("#id_from_local", "nieuws")
    page.fill("#id_deadline", deadline.isoformat())


def save(page):
    """Submit the form and wait until the answer page has loaded."""
    with page.expect_navigation():
        page.locator("form.card button[type=submit]").click()


def visit(page, url, ready):
    """Open ``url`` and wait for ``ready``; say what the page showed instead if it is not there."""
    response = page.goto(url)
    shown = f"{url} answered {response and response.status} at {page.url}"
    assert response is not None and response.ok and page.url == url, shown
    assert page.locator(ready).count() == 1, f"{shown} without {ready}: {page.inner_text('body')}"


@pytest.mark.browser
@pytest.mark.parametrize("language", ["nl", "en"])
def test_a_repermission_mail_needs_yes_and_no_and_editing_keeps_the_deadline(
    transactional_db,
    live_server,
    page_in,
    language,
    newsletter,
    template,
    repermission_template,
    sending_domain,
):
    marketer = make_user("mark@example.com", "marketer")
    person, _created = register_contact({"email": "piet@example.nl"}, source_kind="staff")
    record_event(person, newsletter, EventKind.UNPROVEN, channel="import")
    deadline = timezone.localdate() + timedelta(days=21)
    page = page_in(language)
    sign_in(page, live_server.url, marketer)

    # The ordinary marketing template has no Yes and no No: saving is refused.
    visit(page, live_server.url + "/campaigns/new", "#id_deadline")
    fill_campaign(page, newsletter, template, sending_domain, deadline)
    save(page)
    errors = page.locator("#id_template ~ ul.errorlist").first.inner_text()
    assert SAYS[language]["yes_missing"] in errors
    assert SAYS[language]["no_missing_html"] in errors
    assert not Campaign.objects.exists()
    # Nothing typed is lost: the deadline is still in the date field.
    assert page.input_value("#id_deadline") == deadline.isoformat()

    # With the re-permission template it saves.
    page.select_option("#id_template", str(repermission_template.pk))
    save(page)
    campaign = Campaign.objects.get()
    assert page.url.endswith(f"/campaigns/{campaign.pk}/")
    assert campaign.deadline == deadline

    # Open the edit page and save without changing anything: the deadline stays.
    visit(page, live_server.url + f"/campaigns/{campaign.pk}/edit", "#id_deadline")
    assert page.input_value("#id_deadline") == deadline.isoformat()
    save(page)
    assert page.url.endswith(f"/campaigns/{campaign.pk}/")
    campaign.refresh_from_db()
    assert campaign.deadline == deadline

    # The template in use cannot lose its links on the template page either.
    visit(
        page, live_server.url + f"/campaigns/templates/{repermission_template.pk}/", "#id_text_en"
    )
    page.fill("#id_text_en", "Dear {{ first_name }},\n\nNew hiking boots.\n")
    save(page)
    assert "{{ no_url }}" in page.locator("ul.errorlist.nonfield").inner_text()
    assert "{{ no_url }}" in MailTemplate.objects.get(pk=repermission_template.pk).text_en

    # A campaign that lost its links some other way (the template changed in the
    # database, a campaign from before this check) shows why and cannot be sent.
    MailTemplate.objects.filter(pk=repermission_template.pk).update(
        html_en="<p>New hiking boots.</p>"
    )
    page.goto(live_server.url + f"/campaigns/{campaign.pk}/")
    assert (
        SAYS[language]["no_missing_html"] in page.locator(".msg.error:not([hidden])").inner_text()
    )
    assert page.locator(f"form[action='/campaigns/{campaign.pk}/start']").count() == 0
    # Posting the start form anyway (a stale page, a script) is refused too.
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        live_server.url + f"/campaigns/{campaign.pk}/start",
        form={"send_at": "", "csrfmiddlewaretoken": csrf},
        headers={
            "Referer": live_server.url + f"/campaigns/{campaign.pk}/",
            "Accept-Language": language,
        },
    )
    assert SAYS[language]["no_missing_html"] in response.text()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    assert not Delivery.objects.exists()


@pytest.mark.browser
@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_template_editor_previews_markdown_while_typing(
    transactional_db, live_server, page_in, language
):
    marketer = make_user("mark@example.com", "marketer")
    page = page_in(language)
    sign_in(page, live_server.url, marketer)
    visit(page, live_server.url + "/campaigns/templates/new", "#id_body_en")
    section = page.locator('section[data-language="en"]')
    frame = page.frame_locator('section[data-language="en"] iframe[data-preview="html"]')

    page.fill("#id_name", "Autumn")
    page.fill("#id_subject_en", "Hello {{ first_name }}")
    page.locator("#id_body_en").press_sequentially(
        "# Autumn news for {{ first_name }}\n\nSee [the shop](https://shop.example.com/autumn).\n"
    )

    # The preview catches up with the typing (generous deadline: a busy machine).
    heading = frame.locator("h1")
    heading.filter(has_text="Autumn news for Anna").wait_for(timeout=30_000)
    link = frame.locator("a", has_text="the shop")
    assert link.get_attribute("href") == "https://shop.example.com/autumn"
    # The inlined styles apply: the frame may use inline styles, nothing else.
    assert heading.evaluate("h => getComputedStyle(h).fontSize") == "26px"
    page.wait_for_function(
        '() => document.querySelector(\'section[data-language="en"] [data-preview="subject"]\')'
        ".textContent === 'Hello Anna'",
        timeout=30_000,
    )
    text = section.locator('[data-preview="text"]').inner_text()
    assert "See the shop: https://shop.example.com/autumn." in text
    # The frame runs no scripts and is not of the page's origin.
    assert page.locator('section[data-language="en"] iframe').get_attribute("sandbox") == ""

    # Saving keeps what the preview showed.
    save(page)
    saved = MailTemplate.objects.get()
    assert saved.body_en.startswith("# Autumn news for {{ first_name }}")
    assert 'href="https://shop.example.com/autumn"' in saved.html_en
