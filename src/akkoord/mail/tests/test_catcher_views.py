"""The mail catcher pages: newest first, headers and parts, HTML never executed."""

from datetime import timedelta
from email.message import EmailMessage

import pytest
from django.conf import settings
from django.utils import timezone

from akkoord.accounts.models import AuditAction, AuditEntry
from akkoord.mail.models import CaughtMessage


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 costs most of each test's time; these tests are not about passwords."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def speak(client, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return {"HTTP_ACCEPT_LANGUAGE": language}


def caught(subject, *, html=None, text="Hallo Jan,\nwelkom.", minutes_ago=0):
    message = EmailMessage()
    message["From"] = "Akkoord <noreply@example.com>"
    message["To"] = "jan@example.nl"
    message["Subject"] = subject
    message["List-Unsubscribe"] = "<https://example.com/u/abc>"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return CaughtMessage.objects.create(
        mail_from="noreply@example.com",
        recipients="jan@example.nl",
        subject=subject,
        raw=message.as_bytes(),
        received_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


@pytest.mark.parametrize(("language", "word"), [("nl", "Mailvanger"), ("en", "Mail catcher")])
def test_list_shows_newest_first(dpo_client, language, word):
    caught("Oud bericht", minutes_ago=10)
    caught("Nieuw bericht")
    response = dpo_client.get("/mail/", **speak(dpo_client, language))
    html = response.content.decode()
    assert word in html
    assert html.index("Nieuw bericht") < html.index("Oud bericht")


def test_detail_shows_headers_and_text_part(dpo_client):
    message = caught("Bevestig je inschrijving", html="<p>Hallo <b>Jan</b></p>")
    html = dpo_client.get(f"/mail/{message.pk}/", **speak(dpo_client, "en")).content.decode()
    assert "List-Unsubscribe" in html
    assert "https://example.com/u/abc" in html
    assert "Hallo Jan,\nwelkom." in html
    assert "&lt;p&gt;Hallo &lt;b&gt;Jan&lt;/b&gt;&lt;/p&gt;" in html
    assert AuditEntry.objects.filter(
        action=AuditAction.VIEW, object_type="caughtmessage", object_id=str(message.pk)
    ).exists()


def test_html_part_cannot_run_scripts(dpo_client):
    evil = '<p onclick="x()">Hi</p><script>alert("pwned")</script><img src=x onerror=alert(1)>'
    message = caught("Evil <script>", html=evil)
    response = dpo_client.get(f"/mail/{message.pk}/")
    html = response.content.decode()
    assert "<script>" not in html
    assert "onerror=alert(1)>" not in html
    assert "<iframe" in html and " sandbox " in html and 'srcdoc="&lt;p onclick=' in html
    assert "allow-scripts" not in html
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_message_without_html_part(dpo_client):
    message = caught("Plain only")
    html = dpo_client.get(f"/mail/{message.pk}/", **speak(dpo_client, "en")).content.decode()
    assert "This message has no HTML part." in html
    assert "<iframe" not in html


def test_unknown_message_is_404(dpo_client):
    assert dpo_client.get("/mail/987654/").status_code == 404


def test_only_signed_in_staff_see_caught_mail(client, db):
    message = caught("Geheim")
    for url in ("/mail/", f"/mail/{message.pk}/"):
        response = client.get(url)
        assert response.status_code in (302, 403)
        assert b"Geheim" not in response.content
