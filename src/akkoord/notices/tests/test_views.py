import pytest
from django.core import mail
from django.urls import reverse

from akkoord.accounts.models import AuditEntry
from akkoord.contacts.models import Activity, ActivityKind
from akkoord.lib.panels import contact_page, dashboard
from akkoord.notices.models import NoticeSettings, NoticeTemplate
from akkoord.notices.services import default_template

pytestmark = pytest.mark.django_db


def test_staff_sends_and_resends_with_chosen_template_language_and_subject(
    marketer_client, contact
):
    other = NoticeTemplate.objects.create(
        name="Kort",
        subject_nl="Kort",
        body_nl="Kort: {{ centre_url }}",
        subject_en="Short",
        body_en="Short: {{ centre_url }}",
    )
    url = reverse("notices:send", args=[contact.pk])
    page = marketer_client.get(url)
    assert page.status_code == 200 and contact.email in page.content.decode()
    data = {
        "to": contact.email,
        "template": other.pk,
        "language": "en",
        "subject": "About your data",
    }
    assert marketer_client.post(url, data).status_code == 302
    assert marketer_client.post(url, {**data, "subject": ""}).status_code == 302
    assert [m.subject for m in mail.outbox] == ["About your data", "Short"]
    assert mail.outbox[1].body.startswith("Short: http")
    archived = Activity.objects.filter(contact=contact, kind=ActivityKind.MAIL)
    assert archived.count() == 2
    assert {a.data["language"] for a in archived} == {"en"}
    assert archived.first().data["sent_by"] == "mark@example.com"
    contact.refresh_from_db()
    assert contact.informed_at is not None
    assert AuditEntry.objects.filter(action="send", object_id=str(contact.pk)).count() == 2


def test_a_typed_address_is_refused(marketer_client, contact):
    url = reverse("notices:send", args=[contact.pk])
    response = marketer_client.post(
        url, {"to": "other@example.com", "template": default_template().pk, "language": "nl"}
    )
    assert response.status_code == 200 and not mail.outbox


def test_dpo_may_not_send(dpo_client, contact):
    assert dpo_client.get(reverse("notices:send", args=[contact.pk])).status_code == 403


def test_templates_are_edited_and_checked(admin_client):
    default_template()
    response = admin_client.post(
        reverse("notices:template_new"),
        {
            "name": "Fout",
            "subject_nl": "x",
            "body_nl": "{% if %}",
            "subject_en": "x",
            "body_en": "ok",
        },
    )
    assert response.status_code == 200 and NoticeTemplate.objects.count() == 1
    response = admin_client.post(
        reverse("notices:template_new"),
        {
            "name": "Nieuw",
            "is_default": "on",
            "subject_nl": "a",
            "body_nl": "b",
            "subject_en": "c",
            "body_en": "d",
        },
    )
    assert response.status_code == 302
    assert NoticeTemplate.objects.get(is_default=True).name == "Nieuw"
    assert admin_client.get(reverse("notices:templates")).status_code == 200


def test_channel_settings_are_saved(admin_client):
    admin_client.post(reverse("notices:settings"), {"send_on_form": "on", "send_on_staff": "on"})
    row = NoticeSettings.current()
    assert row.send_on_form and row.send_on_staff and not row.send_on_import and not row.send_on_api


def test_panels_render_on_dashboard_and_contact_page(rf, marketer, contact):
    request = rf.get("/")
    request.user = marketer
    request.user.is_verified = lambda: True
    section = "".join(contact_page.render(request, contact))
    assert "nog niet geïnformeerd" in section
    assert reverse("notices:send", args=[contact.pk]) in section
    panel = "".join(dashboard.render(request))
    assert f"#{contact.pk}" in panel


def test_real_dashboard_and_contact_page_show_the_notice(marketer_client, contact):
    dashboard_html = marketer_client.get(reverse("front:dashboard")).content.decode()
    assert "Nog niet geïnformeerd (privacybevestiging)" in dashboard_html
    page = marketer_client.get(reverse("contacts:detail", args=[contact.pk])).content.decode()
    assert reverse("notices:send", args=[contact.pk]) in page
