"""The mail catcher's HTML view in a real browser: links open, scripts do not run."""

from email.message import EmailMessage

import pytest
from django.utils import timezone

from akkoord.front.tests.test_pages_are_styled import _session_cookie, chromium, wsgi_url
from akkoord.mail.models import CaughtMessage

__all__ = ["chromium", "wsgi_url"]  # fixtures borrowed from the page crawl

pytestmark = pytest.mark.django_db(transaction=True)


def _caught_with_link_and_script(target: str) -> CaughtMessage:
    message = EmailMessage()
    message["From"] = "Winkel <winkel@example.nl>"
    message["To"] = "jan@example.nl"
    message["Subject"] = "Nieuwsbrief"
    message.set_content(f"Lees verder: {target}")
    message.add_alternative(
        f'<p>Hallo Jan, <a id="more" href="{target}">lees verder</a></p>'
        "<script>parent.document.title = 'pwned'; alert('pwned')</script>",
        subtype="html",
    )
    return CaughtMessage.objects.create(
        mail_from="winkel@example.nl",
        recipients="jan@example.nl",
        subject="Nieuwsbrief",
        raw=message.as_bytes(),
        received_at=timezone.now(),
    )


def test_a_link_in_the_html_part_opens_in_a_new_tab_and_scripts_stay_dead(wsgi_url, chromium):
    target = f"{wsgi_url}/privacy/"
    caught = _caught_with_link_and_script(target)
    context = chromium.new_context(locale="nl-NL")
    context.add_cookies([_session_cookie(wsgi_url)])
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{wsgi_url}/mail/{caught.pk}/")
    title = page.title()

    with context.expect_page() as opened:
        page.frame_locator("iframe.mail").locator("a#more").click()
    new_tab = opened.value
    new_tab.wait_for_load_state()
    assert new_tab.url == target
    assert page.url == f"{wsgi_url}/mail/{caught.pk}/"  # the catcher stays open
    assert dialogs == [] and page.title() == title and "pwned" not in title
    # The text part's address is a link too.
    assert page.locator("#text-part a").get_attribute("href") == target
    context.close()
