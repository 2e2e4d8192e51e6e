"""Every page a person reaches loads its assets, is styled, and is accessible.

Served by the real WSGI application under waitress, as ``akkoord serve`` does
(not Django's test server, whose static-file handler hid a stylesheet that
answered 404 everywhere else). Chromium crawls every page an administrator can
reach by following links, in Dutch and in English, and the public pages a person
reaches from a mail: the sign-up form, the customer centre, one-click
unsubscribe, the re-permission question and the privacy statement.

On each page: every stylesheet, script and image answers 200 (or 304 for a cached copy), nothing is loaded
from another origin, and the layout has the computed style that app.css sets.
The public pages and the main staff pages have no serious or critical axe-core
violation of WCAG 2.1 A/AA (axe-core is shipped by axe-playwright-python).
"""

import os
import threading
from datetime import timedelta
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone
from waitress import create_server

from akkoord.campaigns.models import Campaign, Delivery
from akkoord.campaigns.rendering import repermission_token, unsubscribe_token
from akkoord.centre.links import centre_path
from akkoord.conftest import make_user, signed_in_client
from akkoord.contacts.models import Contact
from akkoord.front.demo import create_demo
from akkoord.signup.models import SignupForm

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
# Links the crawl does not follow: they sign out, switch language, or download files.
NOT_FOLLOWED = ("/account/logout", "/i18n/", "/api/v1/", "download", "export", ".csv", ".json")
MAX_PAGES = 150
MAIN_STAFF_PAGES = [
    "/",
    "/contacts/",
    "/forms/",
    "/campaigns/",
    "/requests/",
    "/accountability/",
    "/transfer/",
    "/mail/",
    "/settings/",
]
ASSET_TYPES = {"stylesheet", "script", "image", "font"}
# What app.css sets (browsers' defaults differ: 8px margin, white background, serif font).
APP_CSS_BODY = {"margin": "0px", "backgroundColor": "rgb(246, 247, 249)"}


@pytest.fixture
def wsgi_url(transactional_db):
    """The product's WSGI application (with its middleware) under waitress."""
    from akkoord.wsgi import application

    server = create_server(application, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        server._map.clear()
        server.task_dispatcher.shutdown()
        thread.join(timeout=10)
        connections.close_all()


@pytest.fixture
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            connections.close_all()


def _site_with_everything():
    """The demo shop (with its sign-up form and draft campaign), plus a
    re-permission campaign that mailed one person."""
    create_demo()
    form = SignupForm.objects.get()
    campaign = Campaign.objects.get()
    repermission = Campaign.objects.create(
        name="Mag het nog?",
        purpose=campaign.purpose,
        mail_class="repermission",
        template=campaign.template,
        sending_domain=campaign.sending_domain,
        from_name="De Ketting",
        from_local="nieuws",
        deadline=timezone.localdate() + timedelta(days=14),
    )
    Delivery.objects.create(
        campaign=repermission,
        contact=_person(),
        language="nl",
        basis="unproven_consent",
        reason="ok_unproven",
        status="sent",
    )
    return form, campaign, repermission


def _person() -> Contact:
    return Contact.objects.order_by("pk").first()


def _public_pages(form, campaign, repermission) -> list[str]:
    person = _person()
    return [
        "/privacy",
        "/centre/",
        f"/f/{form.public_key}/",
        centre_path(person),
        f"/u/{unsubscribe_token(person, campaign)}",
        f"/r/{repermission_token(person, repermission)}?answer=no",
    ]


def _session_cookie(base_url: str) -> dict:
    admin = make_user("crawler@example.com", "admin")
    client = signed_in_client(admin)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": base_url,
    }


def _check_page(page, base_url: str, path: str) -> list[str]:
    """Open one page; the problems found (an empty list when it is fine)."""
    problems: list[str] = []
    origin = urlsplit(base_url).netloc

    def on_response(response):
        request = response.request
        # 304: the browser revalidated its cached copy, which is there and current.
        if request.resource_type in ASSET_TYPES and response.status not in (200, 304):
            problems.append(f"{path}: {request.url} answered {response.status}")

    def on_request(request):
        if urlsplit(request.url).netloc not in (origin, ""):
            problems.append(f"{path}: loads {request.url} from another origin")

    def on_failed(request):
        if request.resource_type in ASSET_TYPES:
            problems.append(f"{path}: {request.url} failed ({request.failure})")

    page.on("response", on_response)
    page.on("request", on_request)
    page.on("requestfailed", on_failed)
    try:
        response = page.goto(urljoin(base_url, path), wait_until="load")
        if response is None or response.status != 200:
            problems.append(f"{path}: answered {response and response.status}")
            return problems
        sheets = page.eval_on_selector_all(
            "link[rel=stylesheet]", "links => links.map(l => l.sheet !== null)"
        )
        if not sheets or not all(sheets):
            problems.append(f"{path}: a stylesheet did not load ({sheets})")
        style = page.evaluate(
            "() => { const s = getComputedStyle(document.body);"
            " return {margin: s.margin, backgroundColor: s.backgroundColor}; }"
        )
        if style != APP_CSS_BODY:
            problems.append(f"{path}: the page is not styled by app.css ({style})")
    finally:
        page.remove_listener("response", on_response)
        page.remove_listener("request", on_request)
        page.remove_listener("requestfailed", on_failed)
    return problems


def _accessibility_problems(page, path: str) -> list[str]:
    """Serious and critical axe-core violations (WCAG 2.1 A and AA) on the open page."""
    from axe_playwright_python.sync_playwright import Axe

    options = {
        "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
        "resultTypes": ["violations"],
    }
    results = Axe().run(page, options=options)
    assert results.response["testEngine"]["name"] == "axe-core"
    return [
        f"{path}: {violation['id']} ({violation['impact']}): "
        + "; ".join(node["target"][0] for node in violation["nodes"][:3])
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def _links(page, base_url: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    origin = urlsplit(base_url).netloc
    found = []
    for href in hrefs:
        parts = urlsplit(href)
        if parts.netloc != origin or any(word in parts.path for word in NOT_FOLLOWED):
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def _crawl(page, base_url: str, start: list[str]) -> tuple[list[str], list[str]]:
    seen: list[str] = []
    problems: list[str] = []
    queue = list(start)
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.append(path)
        found = _check_page(page, base_url, path)
        problems += found
        if not found:
            queue += [link for link in _links(page, base_url) if link not in seen]
    return seen, problems


@pytest.mark.browser
@pytest.mark.parametrize("locale", ["nl-NL", "en-GB"])
def test_every_page_loads_its_assets_and_is_styled(wsgi_url, chromium, locale):
    form, campaign, repermission = _site_with_everything()
    staff = chromium.new_context(locale=locale)
    staff.add_cookies([_session_cookie(wsgi_url)])
    staff_page = staff.new_page()
    staff_pages, problems = _crawl(staff_page, wsgi_url, ["/"])
    # Accessibility of the main staff pages (one per menu entry and a contact).
    contact_page = next(p for p in staff_pages if p.startswith("/contacts/") and p[10:11].isdigit())
    for path in MAIN_STAFF_PAGES + [contact_page, f"/campaigns/{campaign.pk}/"]:
        problems += _check_page(staff_page, wsgi_url, path)
        problems += _accessibility_problems(staff_page, path)
    staff.close()

    public = chromium.new_context(locale=locale)
    public_page = public.new_page()
    for path in _public_pages(form, campaign, repermission):
        problems += _check_page(public_page, wsgi_url, path)
        problems += _accessibility_problems(public_page, path)
    public.close()

    assert problems == []
    # The crawl really went through the product, not just one page.
    for expected in ("/contacts/", "/campaigns/", "/forms/", "/accountability/", "/requests/"):
        assert any(path.startswith(expected) for path in staff_pages), (expected, staff_pages)
    assert len(staff_pages) >= 30, staff_pages
