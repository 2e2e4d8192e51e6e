"""Staff pages: who may do what, the preview, progress, recipients and the contact section."""

from datetime import timedelta

import dns.resolver
import pytest
from django.template.loader import render_to_string
from django.utils import timezone, translation

from akkoord.accounts.models import AuditEntry
from akkoord.campaigns import panels
from akkoord.campaigns.dkimsign import public_record
from akkoord.campaigns.dnscheck import check_domain
from akkoord.campaigns.models import Campaign, CampaignStatus, Delivery, MailTemplate
from akkoord.campaigns.tests.conftest import dkim_test_key, grant, stub_dns
from akkoord.consent.ledger import record_event
from akkoord.consent.rules import EventKind
from akkoord.contacts.services import register_contact
from akkoord.lib.panels import contact_page

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(marketer_client, admin_client, dpo_client):
    for client in (marketer_client, admin_client, dpo_client):
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


def campaign_data(newsletter, template, sending_domain, **extra):
    return {
        "name": "Herfst",
        "purpose": newsletter.pk,
        "mail_class": "marketing_other",
        "audience": "optins",
        "template": template.pk,
        "sending_domain": sending_domain.pk,
        "from_name": "Wandelwinkel",
        "from_local": "nieuws",
        "fallback_language": "nl",
        "rate_limit": "",
        "rate_period": "minute",
        **extra,
    }


def test_marketer_creates_a_campaign_and_dpo_may_not(
    marketer_client, dpo_client, newsletter, template, sending_domain
):
    data = campaign_data(newsletter, template, sending_domain)
    assert dpo_client.post("/campaigns/new", data).status_code == 403
    response = marketer_client.post("/campaigns/new", data)
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response.url == f"/campaigns/{campaign.pk}/"


def test_other_marketing_cannot_go_to_customers(
    marketer_client, newsletter, template, sending_domain
):
    data = campaign_data(newsletter, template, sending_domain, audience="customers")
    response = marketer_client.post("/campaigns/new", data)
    assert response.status_code == 200
    assert "opt-ins only" in response.content.decode()
    assert not Campaign.objects.exists()


def test_detail_shows_counts_per_basis_and_why_nobody(
    marketer_client, make_campaign, newsletter, contact
):
    campaign = make_campaign(newsletter, "marketing_other", "optins")
    page = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "cannot be sent" in page
    assert "gave no consent" in page
    grant(contact, newsletter)
    page = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "Jan Jansen" in page and "cannot be sent" not in page


def test_start_sends_and_progress_and_recipients_explain_why(
    marketer_client,
    make_campaign,
    newsletter,
    contact,
    smtp_sink,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.AKKOORD_SMTP_URL = smtp_sink.url
    grant(contact, newsletter)
    campaign = make_campaign(newsletter, "marketing_other", "optins")
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_client.post(
            f"/campaigns/{campaign.pk}/start", {"send_at": "", "confirmed": "yes"}
        )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FINISHED
    assert smtp_sink.recipients() == ["jan.jansen@example.nl"]
    progress = marketer_client.get(f"/campaigns/{campaign.pk}/progress").json()
    assert (progress["sent"], progress["remaining"]) == (1, 0)
    page = marketer_client.get(f"/campaigns/{campaign.pk}/recipients").content.decode()
    seq = Delivery.objects.get().consent_seq
    assert f"consent event #{seq}" in page
    assert AuditEntry.objects.filter(object_type="campaign", detail="recipients").exists()
    # The contact page asks the same question per person.
    assert panels.contact_deliveries in contact_page._panels
    with translation.override("en"):
        template_name, context = panels.contact_deliveries(None, contact)
        section = render_to_string(template_name, context)
    assert f"consent event #{seq}" in section


def test_schedule_pause_resume_cancel(marketer_client, make_campaign, newsletter, contact):
    grant(contact, newsletter)
    campaign = make_campaign(newsletter, "marketing_other", "optins")
    past = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    marketer_client.post(f"/campaigns/{campaign.pk}/start", {"send_at": past, "confirmed": "yes"})
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT, "a moment in the past is refused"
    future = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    marketer_client.post(f"/campaigns/{campaign.pk}/start", {"send_at": future, "confirmed": "yes"})
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED
    assert not Delivery.objects.exists(), "the audience is frozen when sending starts"
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING)
    marketer_client.post(f"/campaigns/{campaign.pk}/pause")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED
    marketer_client.post(f"/campaigns/{campaign.pk}/cancel")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED


def test_mail_preview_is_sandboxed(marketer_client, make_campaign, newsletter):
    campaign = make_campaign(newsletter)
    response = marketer_client.get(f"/campaigns/{campaign.pk}/mail?language=nl")
    assert response.status_code == 200
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert b"Beste Jan" in response.content
    assert b"Unsubscribe" in response.content or b"Afmelden" in response.content


def test_test_send_goes_to_the_staff_users_own_address(
    marketer_client, make_campaign, newsletter, smtp_sink, settings
):
    settings.AKKOORD_SMTP_URL = smtp_sink.url
    campaign = make_campaign(newsletter)
    marketer_client.post(f"/campaigns/{campaign.pk}/test", {"language": "nl"})
    assert smtp_sink.recipients() == ["mark@example.com"]


def test_templates_cannot_reach_settings_or_load_tags(marketer_client):
    response = marketer_client.post(
        "/campaigns/templates/new",
        {
            "name": "Evil",
            "subject_nl": "Hoi",
            "text_nl": "{% load static %}{{ settings.SECRET_KEY }}",
        },
    )
    assert response.status_code == 200
    assert "may not use the tag load" in response.content.decode()
    assert not MailTemplate.objects.filter(name="Evil").exists()


def test_sandbox_renders_unknown_names_as_empty():
    from django.template import Context

    from akkoord.lib.sandbox import compile_template

    template = compile_template("[{{ settings.SECRET_KEY }}{{ request }}{{ first_name }}]")
    assert template.render(Context({"first_name": "Jan"})) == "[Jan]"


class StubResolver:
    def __init__(self, records):
        self.records = records

    def resolve(self, name, kind):
        if name not in self.records:
            raise dns.resolver.NXDOMAIN
        return [type("R", (), {"strings": [value.encode()]}) for value in self.records[name]]


def test_dns_check_explains_spf_dkim_dmarc(sending_domain):
    good = StubResolver(
        {
            "mail.example.com": ["v=spf1 include:_spf.example.net -all"],
            "akkoord._domainkey.mail.example.com": [public_record(dkim_test_key())],
            "_dmarc.mail.example.com": ["v=DMARC1; p=none; rua=mailto:d@example.com"],
        }
    )
    spf, dkim_check, dmarc = check_domain(sending_domain, resolver=good)
    assert (spf.status, dkim_check.status, dmarc.status) == ("ok", "ok", "warn")
    bad = StubResolver({"mail.example.com": ["v=spf1 +all"]})
    spf, dkim_check, dmarc = check_domain(sending_domain, resolver=bad)
    assert (spf.status, dkim_check.status, dmarc.status) == ("bad", "bad", "bad")
    assert "+all" in spf.explanation
    assert stub_dns(b"other.") is None


def test_domain_page_shows_the_public_record_only(admin_client, marketer_client):
    response = admin_client.post(
        "/campaigns/domains/new", {"domain": "Nieuws.Example.com", "selector": "ak1"}
    )
    assert response.status_code == 302
    page = admin_client.get(response.url).content.decode()
    assert "ak1._domainkey.nieuws.example.com" in page
    assert "v=DKIM1; k=rsa; p=" in page
    assert "PRIVATE KEY" not in page
    assert (
        marketer_client.post(
            "/campaigns/domains/new", {"domain": "x.example.com", "selector": "a"}
        ).status_code
        == 403
    )
    assert (
        admin_client.post(
            "/campaigns/domains/new", {"domain": "not a domain", "selector": "a"}
        ).status_code
        == 400
    )


def test_bad_input_on_staff_pages_is_refused_and_changes_nothing(
    marketer_client, make_campaign, newsletter, contact
):
    grant(contact, newsletter)
    campaign = make_campaign(newsletter, "marketing_other", "optins")
    detail = f"/campaigns/{campaign.pk}/"
    for send_at in ("not a date", "2020-13-45T99:99", "x" * 5000):
        response = marketer_client.post(f"{detail}start", {"send_at": send_at}, follow=True)
        assert response.status_code == 200
        assert "Enter a valid date/time." in response.content.decode()
    response = marketer_client.post(f"{detail}test", {"language": "fr"}, follow=True)
    assert "no text in this language" in response.content.decode()
    assert marketer_client.get(f"{detail}mail?language=../../etc").status_code == 404
    for query in ("?page=abc", "?page=-1&status=bogus", "?q=" + "%" * 300):
        assert marketer_client.get(f"{detail}recipients{query}").status_code == 200
    assert marketer_client.post(f"{detail}resume").status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    assert not Delivery.objects.exists()
    assert marketer_client.get("/campaigns/999999/").status_code == 404
    assert marketer_client.post("/campaigns/999999/start", {"send_at": ""}).status_code == 404


def test_send_asks_first_with_the_number_of_recipients_and_the_audience(
    marketer_client, make_campaign, newsletter, contact
):
    grant(contact, newsletter)
    other, _created = register_contact({"email": "piet@example.nl"}, source_kind="staff")
    campaign = make_campaign(newsletter, "marketing_other", "optins")
    page = marketer_client.post(f"/campaigns/{campaign.pk}/start", {"send_at": ""})
    assert page.status_code == 200
    html = page.content.decode()
    # One person has consent (jan), one has none (piet): "send to 1".
    assert '<p class="stat" id="confirm-count">1</p>' in html
    assert campaign.get_audience_display() in html
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT and not Delivery.objects.exists()
    assert 'name="confirmed" value="yes"' in html


def test_who_is_left_out_is_listed_by_name_before_and_after_sending(
    marketer_client,
    make_campaign,
    newsletter,
    contact,
    smtp_sink,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.AKKOORD_SMTP_URL = smtp_sink.url
    grant(contact, newsletter)
    # DOMAIN: opt-ins only needs consent; no consent and a withdrawal both leave a person out.
    never, _c = register_contact(
        {"email": "nooit@example.nl", "first_name": "Nooit"}, source_kind="staff"
    )
    gone, _c = register_contact(
        {"email": "weg@example.nl", "first_name": "Weg"}, source_kind="staff"
    )
    grant(gone, newsletter)
    record_event(gone, newsletter, EventKind.WITHDRAWN, channel="staff")
    campaign = make_campaign(newsletter, "marketing_other", "optins")

    def left_out():
        html = marketer_client.get(f"/campaigns/{campaign.pk}/excluded").content.decode()
        table = html[html.index('id="excluded-people"') :]
        return {name for name in ("Jan", "Nooit", "Weg") if f">{name}" in table}

    assert left_out() == {"Nooit", "Weg"}
    with django_capture_on_commit_callbacks(execute=True):
        marketer_client.post(f"/campaigns/{campaign.pk}/start", {"send_at": "", "confirmed": "yes"})
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FINISHED
    # After sending the list is the one decided then, even if Weg subscribes again now.
    grant(gone, newsletter)
    assert left_out() == {"Nooit", "Weg"}
    detail = marketer_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'id="frozen-exclusions"' in detail
    # A finished campaign offers no pause or cancel.
    assert f"/campaigns/{campaign.pk}/pause" not in detail
    assert f"/campaigns/{campaign.pk}/cancel" not in detail


def test_a_first_campaign_is_guided_step_by_step(marketer_client, newsletter, db):
    """On an empty install "New campaign" says what is missing, in order, with where to do it."""
    from akkoord.campaigns.models import SendingDomain

    page = marketer_client.get("/campaigns/new").content.decode()
    assert 'id="setup-steps"' in page and 'name="name"' not in page
    assert "/campaigns/domains/" in page and "/campaigns/templates/new" in page
    SendingDomain.objects.create(domain="mail.example.com", selector="a")
    MailTemplate.objects.create(name="T", subject_nl="Hallo", text_nl="Tekst")
    page = marketer_client.get("/campaigns/new").content.decode()
    assert 'id="setup-steps"' not in page and 'name="name"' in page
    assert 'id="setup-steps"' not in marketer_client.get("/campaigns/").content.decode()
