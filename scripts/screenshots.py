"""Screenshots of Akkoord's main screens, made from the demo, for docs/ and the README.

    python3 -m uv run python scripts/screenshots.py [--out docs/screenshots] [--language nl]

Builds the demo shop in a temporary data folder (SQLite), serves the real WSGI
application with waitress on 127.0.0.1, and lets Debian's Chromium
(/usr/bin/chromium) take one PNG per screen. Run it again after changing a page
so that the pictures stay true; nothing outside the output folder is kept.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# (file name, path or a function of the demo objects that gives it, what it shows)
SCREENS = [
    ("dashboard", "/", "the dashboard"),
    ("contacts", "/contacts/", "the contact list"),
    ("contact", "contact", "one person: data, consents with proof, may I mail?"),
    ("campaign", "campaign", "a campaign: audience preview with bases and exclusions"),
    ("signup-form", "signup_form", "the staff view of a sign-up form"),
    ("register", "/accountability/", "accountability: register, statement, breaches"),
    ("public-form", "public_form", "the public sign-up form"),
    ("centre", "centre", "the customer centre a person reaches from a mail"),
    ("privacy", "/privacy", "the published privacy statement"),
]


def _setup(data_dir: str) -> None:
    os.environ["AKKOORD_DATA_DIR"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "akkoord.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _paths() -> dict[str, str]:
    from akkoord.campaigns.models import Campaign
    from akkoord.centre.links import centre_path
    from akkoord.contacts.models import Contact
    from akkoord.signup.models import SignupForm

    person = Contact.objects.filter(consent_states__isnull=False).order_by("pk").first()
    form = SignupForm.objects.get()
    return {
        "contact": f"/contacts/{person.pk}/",
        "campaign": f"/campaigns/{Campaign.objects.get().pk}/",
        "signup_form": f"/forms/{form.pk}/",
        "public_form": f"/f/{form.public_key}/",
        "centre": centre_path(person),
    }


def _admin_session_cookie(base_url: str) -> dict:
    from django.conf import settings
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from akkoord.accounts.models import User
    from akkoord.front.demo import DEMO_ADMIN_EMAIL

    user = User.objects.get(email=DEMO_ADMIN_EMAIL)
    client = Client()
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = TOTPDevice.objects.get(user=user).persistent_id
    session.save()
    return {"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": base_url}


def _serve():
    from waitress import create_server

    from akkoord.wsgi import application

    server = create_server(application, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    return server, f"http://127.0.0.1:{server.effective_port}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--language", default="nl", choices=["nl", "en"])
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="akkoord-screens-") as data_dir:
        _setup(data_dir)
        from playwright.sync_api import sync_playwright

        from akkoord.front.demo import create_demo

        create_demo()
        paths = _paths()
        server, base_url = _serve()
        # Made before Playwright starts: its event loop makes Django refuse database calls.
        cookie = _admin_session_cookie(base_url)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
                )
                context = browser.new_context(
                    locale="nl-NL" if args.language == "nl" else "en-GB",
                    viewport={"width": 1280, "height": 860},
                )
                context.add_cookies([cookie])
                page = context.new_page()
                for name, where, what in SCREENS:
                    page.goto(base_url + paths.get(where, where), wait_until="load")
                    target = out / f"{name}.png"
                    page.screenshot(path=str(target), full_page=False)
                    print(f"{target}: {what}")
                browser.close()
        finally:
            server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
