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


def test_detail_shows_headers_and_text_part(admin_client):
    message = caught("Bevestig je inschrijving", html="<p>Hallo <b>Jan</b></p>")
    html = admin_client.get(f"/mail/{message.pk}/", **speak(admin_client, "en")).content.decode()
    assert "List-Unsubscribe" in html
    assert "https://example.com/u/abc" in html
    assert "Hallo Jan,\nwelkom." in html
    assert "&lt;p&gt;Hallo &lt;b&gt;Jan&lt;/b&gt;&lt;/p&gt;" in html
    assert AuditEntry.objects.filter(
        action=AuditAction.VIEW, object_type="caughtmessage", object_id=str(message.pk)
    ).exists()


def test_html_part_cannot_run_scripts(admin_client):
    evil = '<p onclick="x()">Hi</p><script>alert("pwned")</script><img src=x onerror=alert(1)>'
    message = caught("Evil <script>", html=evil)
    response = admin_client.get(f"/mail/{message.pk}/")
    html = response.content.decode()
    assert "<script>" not in html
    assert "onerror=alert(1)>" not in html
    assert "<iframe" in html and 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in html
    assert 'srcdoc="&lt;base target=&quot;_blank&quot;&gt;&lt;p onclick=' in html
    assert "allow-scripts" not in html
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_message_without_html_part(admin_client):
    message = caught("Plain only")
    html = admin_client.get(f"/mail/{message.pk}/", **speak(admin_client, "en")).content.decode()
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


def _with_link(path: str) -> CaughtMessage:
    message = EmailMessage()
    message["From"] = "Akkoord <noreply@example.com>"
    message["To"] = "jan@example.nl"
    message["Subject"] = "Uw gegevens"
    message.set_content(f"Bekijk uw gegevens: http://testserver{path}\n")
    message.add_alternative(
        f'<p><a href="http://testserver{path}?x=1&amp;y=2">Bekijk</a></p>', subtype="html"
    )
    return CaughtMessage.objects.create(
        mail_from="noreply@example.com",
        recipients="jan@example.nl",
        subject="Uw gegevens",
        raw=message.as_bytes(),
    )


@pytest.mark.parametrize(
    "path", ["/centre/abc.def/", "/f/confirm/abc.def/", "/u/abc.def", "/r/abc.def"]
)
def test_the_dpo_cannot_open_a_caught_mail_with_a_personal_link(dpo_client, path):
    message = _with_link(path)
    response = dpo_client.get(f"/mail/{message.pk}/", **speak(dpo_client, "en"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "personal link" in page and "Only administrators" in page
    assert "abc.def" not in page
    assert not AuditEntry.objects.filter(object_type="caughtmessage", object_id=str(message.pk))


def test_a_marketer_cannot_open_it_either(marketer_client):
    message = _with_link("/centre/abc.def/")
    assert marketer_client.get(f"/mail/{message.pk}/").status_code == 403


def test_an_administrator_opens_a_caught_mail_with_a_personal_link(admin_client):
    message = _with_link("/centre/abc.def/")
    response = admin_client.get(f"/mail/{message.pk}/")
    assert response.status_code == 200
    assert "/centre/abc.def/" in response.content.decode()


def test_the_dpo_opens_a_caught_mail_without_personal_links(dpo_client):
    message = _with_link("/privacy/")
    response = dpo_client.get(f"/mail/{message.pk}/")
    assert response.status_code == 200
    assert AuditEntry.objects.filter(object_type="caughtmessage", object_id=str(message.pk))


def test_a_real_centre_link_is_recognised(dpo_client, admin_client, contact):
    from akkoord.centre.links import centre_url

    message = EmailMessage()
    message["From"] = "Akkoord <noreply@example.com>"
    message["To"] = contact.email
    message["Subject"] = "Uw gegevens"
    message.set_content(f"Bekijk uw gegevens:\n{centre_url(contact)}\n")
    caught_mail = CaughtMessage.objects.create(
        mail_from="noreply@example.com",
        recipients=contact.email,
        subject="Uw gegevens",
        raw=message.as_bytes(),
    )
    assert dpo_client.get(f"/mail/{caught_mail.pk}/").status_code == 403
    assert admin_client.get(f"/mail/{caught_mail.pk}/").status_code == 200
