"""A person walks through the centre in Chromium: see, correct, unsubscribe, download, erase.

Afterwards nothing of them is left in clear in any table, the ledger verifies,
and a re-import of their address does not make them mailable again.
"""

import io
import json
import os

import pytest
from django.core.management import call_command
from django.db import connections
from django.urls import reverse

from akkoord.centre.links import centre_path
from akkoord.centre.tests.helpers import SIGNUP_IP, find_everywhere, signed_up
from akkoord.centre.tests.test_erasure import (
    EMAIL,
    FIRST,
    LAST,
    assert_nothing_left,
    assert_reimport_is_not_mailable,
)
from akkoord.consent.ledger import current_consent
from akkoord.consent.rules import ConsentStatus
from akkoord.contacts.models import Contact
from akkoord.contacts.services import register_contact
from akkoord.transfer.importer import ImportRun, prepare, run_import
from akkoord.transfer.reading import open_path

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(accept_downloads=True, java_script_enabled=False)
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()
            # The test's connection would otherwise stay open past the test
            # database's teardown, which PostgreSQL then refuses to drop.
            connections.close_all()


@pytest.mark.browser
def test_a_person_sees_corrects_unsubscribes_downloads_and_erases(
    transactional_db, live_server, browser_page, newsletter, product_updates, tmp_path
):
    person, _ = register_contact(
        {"email": EMAIL, "first_name": FIRST, "last_name": LAST}, source_kind="form"
    )
    signed_up(person, newsletter)
    page = browser_page
    page.goto(live_server.url + centre_path(person))

    # See: details, source, consent with its proof in words.
    assert page.locator("#data").get_by_text(EMAIL).count() == 1
    assert SIGNUP_IP in page.locator("#history").inner_text()
    assert newsletter.consent_text_nl in page.locator("#history").inner_text()

    # Correct.
    page.locator("#data a.button").click()
    page.fill("#id_last_name", LAST + "-Bakker")
    page.locator("form button[type=submit]").click()
    assert LAST + "-Bakker" in page.locator("#data").inner_text()

    # Unsubscribe from one purpose: one click.
    row = page.locator("#choices tr", has_text=newsletter.name_nl)
    row.locator("button[value=unsubscribe]").click()
    assert current_consent(person, newsletter).status == ConsentStatus.WITHDRAWN
    assert page.locator("#choices [role=status], .msg.success").count() >= 1

    # Download, JSON and CSV.
    with page.expect_download() as info:
        page.locator("#download button").first.click()
    path = tmp_path / "export.json"
    info.value.save_as(path)
    export = json.loads(path.read_text(encoding="utf-8"))
    assert export["person"]["last_name"] == LAST + "-Bakker"
    kinds = [e["kind"] for c in export["consents"] for e in c["history"]]
    assert "withdrawn" in kinds
    with page.expect_download() as info:
        page.locator("#download button").nth(1).click()
    assert info.value.suggested_filename.endswith(".csv")

    # Erase, with a confirmation step.
    page.goto(live_server.url + centre_path(person))
    page.locator("#erase a.button").click()
    page.locator("input[name=confirm]").check()
    page.locator("button.danger").click()
    assert page.url.endswith(reverse("centre:erased"))
    assert not Contact.objects.filter(email=EMAIL).exists()

    # The browser came from 127.0.0.1; that proof is gone too.
    assert find_everywhere(["127.0.0.1"]) == {}
    assert_nothing_left(needles=(EMAIL, FIRST, LAST, LAST + "-Bakker", SIGNUP_IP))
    out = io.StringIO()
    call_command("ledger", "verify", stdout=out)  # `akkoord ledger verify`
    assert "Ledger OK" in out.getvalue()

    # An old list with the address, "opted in and confirmed" back then, imported for real.
    old_list = tmp_path / "old-list.csv"
    old_list.write_text(
        "email,first_name,optin_time,optin_ip,confirm_time,confirm_ip\n"
        f"{EMAIL},{FIRST},2024-01-01 10:00:00,192.0.2.1,2024-01-01 10:05:00,192.0.2.1\n",
        encoding="utf-8",
    )
    source = open_path(old_list)
    purpose, mapping, fmt = prepare(source, purpose_key=newsletter.key)
    report = run_import(ImportRun(source, mapping, purpose, format=fmt))
    assert report.committed and report.suppressed_skipped == 1 and report.created == 0
    assert not Contact.objects.filter(email=EMAIL).exists()
    assert find_everywhere([EMAIL]) == {}
    # Registered by another way in (API, staff), the address is still not mailable.
    assert_reimport_is_not_mailable(newsletter)
