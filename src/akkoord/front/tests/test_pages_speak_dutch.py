"""In Dutch, every page speaks Dutch and shows no internal keys (what people see).

Chromium, asking for Dutch, crawls every page an administrator reaches by
following links from the dashboard of the demo shop, and the public pages a
person reaches from a mail. On each, the visible text may hold no sentence the
product left in English and no raw key (see ``dutch.py`` for the detectors).
"""

import os
from urllib.parse import urljoin

import pytest

from akkoord.contacts.models import Contact
from akkoord.front.tests.dutch import VISIBLE_TEXT_JS, is_english, problems_in, raw_keys
from akkoord.front.tests.test_pages_are_styled import (  # noqa: F401 (fixtures)
    _links,
    _person,
    _public_pages,
    _session_cookie,
    _site_with_everything,
    chromium,
    wsgi_url,
)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

MAX_PAGES = 150


def _dutch_problems(page, base_url: str, path: str) -> list[str]:
    response = page.goto(urljoin(base_url, path), wait_until="load")
    if response is None or response.status != 200:
        return [f"{path}: answered {response and response.status}"]
    if page.evaluate("document.documentElement.lang") != "nl":
        return [f"{path}: the page is not in Dutch"]
    return problems_in(page.evaluate(VISIBLE_TEXT_JS), path)


def test_the_detectors_see_english_and_keys():
    """The detectors themselves, on text written for them (so the crawl can fail)."""
    assert is_english("Send the campaign to your customers")
    assert not is_english("Stuur de campagne naar uw klanten")
    assert not is_english("Wandelschoenen Alpina")
    assert raw_keys("changed: fields.woonplaats") == ["a field key (fields.woonplaats)"]
    assert raw_keys("Aanmeldformulier: form:1:v1") == ["an internal reference (form:1:v1)"]
    assert raw_keys("unconfirmed_signups: 0") == ["a snake_case key (unconfirmed_signups)"]
    assert raw_keys("op 2026-03-17T09:30") == ["an ISO date (2026-03-17T09:30)"]
    assert raw_keys("mail jan_de_vries@example.nl of zie https://x.nl/a_b") == []
    assert problems_in(["Everything that happened"], "/x")  # a catalogue source text
    assert problems_in(["Doel van de mail", "Jan de Vries"], "/x") == []


@pytest.mark.browser
def test_every_page_speaks_dutch(wsgi_url, chromium):  # noqa: F811 (fixtures)
    form, campaign, repermission = _site_with_everything()
    # The public pages are those of a person whose language is Dutch (the
    # customer centre speaks the person's language, not the browser's).
    Contact.objects.filter(pk=_person().pk).update(language="nl")
    staff = chromium.new_context(locale="nl-NL")
    staff.add_cookies([_session_cookie(wsgi_url)])
    page = staff.new_page()
    seen, problems, queue = [], [], ["/"]
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.append(path)
        problems += _dutch_problems(page, wsgi_url, path)
        queue += [link for link in _links(page, wsgi_url) if link not in seen]
    staff.close()

    public = chromium.new_context(locale="nl-NL")
    page = public.new_page()
    for path in _public_pages(form, campaign, repermission):
        problems += _dutch_problems(page, wsgi_url, path)
    public.close()

    assert len(seen) >= 30, seen
    assert problems == [], "\n".join(problems)
