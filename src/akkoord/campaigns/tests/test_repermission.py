"""Re-permission mails: the Yes and No links are required, and the No page acts only on POST.

A re-permission mail asks people with unproven consent Yes or No; silence
unsubscribes them at the deadline. Without the links it is an ordinary
promotional mail to people who may not receive one, so it must not start.
"""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone, translation

from akkoord.campaigns import services
from akkoord.campaigns.audience import CampaignNotReady, check_ready, freeze
from akkoord.campaigns.forms import CampaignForm, MailTemplateForm
from akkoord.campaigns.messenger import FakeMessenger
from akkoord.campaigns.models import CampaignBody, CampaignStatus, Delivery, MailTemplate
from akkoord.campaigns.pipeline import run_worker
from akkoord.campaigns.rendering import repermission_token, repermission_urls
from akkoord.campaigns.repermission import process_deadlines
from akkoord.consent.ledger import current_consent, record_event
from akkoord.consent.models import ConsentEvent, ConsentProof
from akkoord.consent.rules import ConsentStatus, EventKind
from akkoord.contacts.models import Activity
from akkoord.contacts.services import register_contact

pytestmark = pytest.mark.django_db

DEADLINE_DAYS = 14


def unproven_people(purpose):
    """One Dutch and one English person whose consent was imported without proof."""
    people = []
    for address, language in (("piet@example.nl", "nl"), ("mary@example.org", "en")):
        person, _created = register_contact(
            {"email": address, "language": language}, source_kind="staff", actor="test"
        )
        record_event(person, purpose, EventKind.UNPROVEN, channel="import")
        people.append(person)
    return people


def without_links_in_english(template: MailTemplate) -> MailTemplate:
    template.text_en = "Dear {{ first_name }},\n\nNew hiking boots.\n"
    template.html_en = "<html><body><p>New hiking boots.</p></body></html>"
    template.save()
    return template


@pytest.fixture
def draft(newsletter, make_campaign):
    unproven_people(newsletter)
    return make_campaign(
        newsletter,
        "repermission",
        None,
        deadline=timezone.localdate() + timedelta(days=DEADLINE_DAYS),
    )


def test_a_complete_repermission_mail_is_ready(draft):
    assert check_ready(draft) == []


def test_start_is_refused_when_one_language_lacks_the_links_and_nothing_is_queued(
    draft, repermission_template, marketer, django_capture_on_commit_callbacks
):
    without_links_in_english(repermission_template)
    with (
        translation.override("en"),
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(CampaignNotReady) as refused,
    ):
        services.start(draft, marketer)
    message = str(refused.value)
    assert "The Yes link ({{ yes_url }}) is missing from the plain-text part in English" in message
    assert "The No link ({{ no_url }}) is missing from the HTML part in English" in message
    assert "Dutch" not in message
    assert callbacks == []
    draft.refresh_from_db()
    assert draft.status == CampaignStatus.DRAFT and draft.frozen_at is None
    assert not Delivery.objects.exists() and not CampaignBody.objects.exists()


def test_scheduling_is_refused_too(draft, repermission_template, marketer):
    without_links_in_english(repermission_template)
    with pytest.raises(CampaignNotReady):
        services.start(draft, marketer, when=timezone.now() + timedelta(hours=2))
    draft.refresh_from_db()
    assert draft.status == CampaignStatus.DRAFT


def test_a_template_changed_after_scheduling_stops_at_the_freeze(
    draft, repermission_template, marketer
):
    services.start(draft, marketer, when=timezone.now() + timedelta(hours=2))
    without_links_in_english(repermission_template)
    with pytest.raises(CampaignNotReady):
        freeze(draft)
    assert not Delivery.objects.exists() and not CampaignBody.objects.exists()


def test_the_send_command_refuses_it(draft, repermission_template):
    without_links_in_english(repermission_template)
    with pytest.raises(CommandError, match="yes_url"):
        call_command("send_campaign", str(draft.pk))
    assert not Delivery.objects.exists()


def test_the_refusal_is_in_dutch_for_a_dutch_user(draft, repermission_template):
    repermission_template.html_nl = '<p><a href="{{ yes_url }}">Ja</a></p>'
    repermission_template.save()
    with translation.override("nl"):
        problems = check_ready(draft)
    assert problems == [
        "De Nee-link ({{ no_url }}) ontbreekt in het HTML-gedeelte in het Nederlands."
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Ja: {{ yes_url }}",
        "Ja: {{ yes_url }} {% if first_name %}Nee: {{ no_url }}{% endif %}",
        "Ja: {{ yes_url }} {# Nee: {{ no_url }} #}",
    ],
)
def test_a_no_link_that_not_every_recipient_sees_is_missing(draft, repermission_template, text):
    repermission_template.text_nl = text
    repermission_template.save()
    with translation.override("en"):
        assert check_ready(draft) == [
            "The No link ({{ no_url }}) is missing from the plain-text part in Dutch."
        ]


def test_a_link_written_as_text_in_the_html_part_is_not_a_link(draft, repermission_template):
    repermission_template.html_en = "<p>Yes: {{ yes_url }} No: {{ no_url }}</p>"
    repermission_template.save()
    with translation.override("en"):
        problems = check_ready(draft)
    assert problems == [
        "The Yes link ({{ yes_url }}) is missing from the HTML part in English.",
        "The No link ({{ no_url }}) is missing from the HTML part in English.",
    ]


def test_a_marketing_mail_with_the_links_is_refused(
    newsletter, contact, make_campaign, repermission_template, marketer
):
    from akkoord.campaigns.tests.conftest import grant

    grant(contact, newsletter)
    campaign = make_campaign(
        newsletter, "marketing_other", "optins", template=repermission_template
    )
    with translation.override("en"), pytest.raises(CampaignNotReady) as refused:
        services.start(campaign, marketer)
    assert "Only a re-permission mail may ask Yes or No" in str(refused.value)
    assert not Delivery.objects.exists()


def campaign_form_data(newsletter, template, sending_domain, **extra):
    return {
        "name": "Blijft u?",
        "purpose": newsletter.pk,
        "mail_class": "repermission",
        "audience": "",
        "template": template.pk,
        "sending_domain": sending_domain.pk,
        "from_name": "Wandelwinkel",
        "from_local": "nieuws",
        "fallback_language": "nl",
        "rate_limit": "",
        "rate_period": "minute",
        "deadline": (timezone.localdate() + timedelta(days=DEADLINE_DAYS)).isoformat(),
        **extra,
    }


def test_the_campaign_form_names_what_is_missing(newsletter, template, sending_domain):
    with translation.override("en"):
        form = CampaignForm(campaign_form_data(newsletter, template, sending_domain))
        assert not form.is_valid()
        errors = form.errors["template"]
    assert "The Yes link ({{ yes_url }}) is missing from the plain-text part in Dutch." in errors
    assert "The No link ({{ no_url }}) is missing from the HTML part in English." in errors
    assert len(errors) == 8  # two links, two parts, two languages


def test_the_campaign_form_refuses_links_for_other_mail_classes(
    newsletter, repermission_template, sending_domain
):
    data = campaign_form_data(
        newsletter, repermission_template, sending_domain, mail_class="marketing_other"
    )
    data["audience"] = "optins"
    with translation.override("en"):
        form = CampaignForm(data)
        assert not form.is_valid()
    assert any("Only a re-permission mail" in error for error in form.errors["template"])


def template_form_data(template: MailTemplate, **changes) -> dict:
    fields = ["name", "subject_nl", "text_nl", "html_nl", "subject_en", "text_en", "html_en"]
    return {name: getattr(template, name) for name in fields} | changes


def test_a_template_with_only_one_answer_link_is_refused(repermission_template):
    data = template_form_data(repermission_template, name="Nieuw", text_en="Yes: {{ yes_url }}")
    with translation.override("en"):
        form = MailTemplateForm(data)
        assert not form.is_valid()
    assert form.non_field_errors() == [
        "The No link ({{ no_url }}) is missing from the plain-text part in English."
    ]


def test_a_template_in_use_cannot_lose_its_links(draft, repermission_template):
    data = template_form_data(
        repermission_template, text_nl="Beste klant", html_nl="", text_en="Dear", html_en=""
    )
    with translation.override("en"):
        form = MailTemplateForm(data, instance=repermission_template)
        assert not form.is_valid()
    assert form.non_field_errors() == [
        "Campaign “Test”: The Yes link ({{ yes_url }}) is missing from the plain-text part in "
        "Dutch.",
        "Campaign “Test”: The No link ({{ no_url }}) is missing from the plain-text part in Dutch.",
        "Campaign “Test”: The Yes link ({{ yes_url }}) is missing from the plain-text part in "
        "English.",
        "Campaign “Test”: The No link ({{ no_url }}) is missing from the plain-text part in "
        "English.",
    ]
    repermission_template.refresh_from_db()
    assert "{{ yes_url }}" in repermission_template.text_nl


def test_a_marketing_template_in_use_cannot_gain_the_links(newsletter, make_campaign, template):
    make_campaign(newsletter, "marketing_other", "optins")
    with_links = {f"text_{lang}": "{{ yes_url }} {{ no_url }}" for lang in ("nl", "en")} | {
        f"html_{lang}": "" for lang in ("nl", "en")
    }
    form = MailTemplateForm(template_form_data(template, **with_links), instance=template)
    assert not form.is_valid()
    assert len(form.non_field_errors()) == 4


# The public pages. ------------------------------------------------------------


def snapshot():
    return (
        ConsentEvent.objects.count(),
        ConsentProof.objects.count(),
        Activity.objects.count(),
        list(Delivery.objects.order_by("id").values_list("answer", "answered_at")),
    )


@pytest.fixture
def sent(draft, newsletter):
    freeze(draft)
    messenger = FakeMessenger()
    run_worker(draft.pk, messenger)
    assert len(messenger.sent) == 2
    delivery = Delivery.objects.get(contact__email="piet@example.nl")
    yes, no = repermission_urls(repermission_token(delivery.contact, draft))
    return delivery, yes, no


def buttons_in_answer_form(page: str) -> list[str]:
    import re

    form = re.search(r'<form method="post" id="answer">(.*?)</form>', page, re.S).group(1)
    return re.findall(r'<button[^>]*value="(\w+)"', form)


def test_the_no_page_offers_one_button_no_and_get_changes_nothing(sent, newsletter):
    delivery, _yes, no = sent
    before = snapshot()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    for _scanner_visit in range(2):
        response = client.get(no)
        assert response.status_code == 200
        page = response.content.decode()
        assert buttons_in_answer_form(page) == ["no"]
        assert page.count("<button") == 2  # the answer and the header's language switch
        assert "No, unsubscribe me" in page and "Yes, keep me subscribed" not in page
    assert snapshot() == before
    assert current_consent(delivery.contact, newsletter).status == ConsentStatus.UNPROVEN


def test_the_yes_page_offers_one_button_yes(sent):
    _delivery, yes, _no = sent
    before = snapshot()
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(yes).content.decode()
    assert buttons_in_answer_form(page) == ["yes"]
    assert snapshot() == before


def test_posting_no_unsubscribes_with_proof(sent, newsletter):
    delivery, _yes, no = sent
    response = Client(enforce_csrf_checks=True).post(
        no, {"answer": "no"}, REMOTE_ADDR="198.51.100.9"
    )
    assert response.status_code == 200
    assert current_consent(delivery.contact, newsletter).status == ConsentStatus.WITHDRAWN
    event = ConsentEvent.objects.get(kind=EventKind.WITHDRAWN)
    assert event.channel == "repermission"
    assert ConsentProof.objects.get(event=event).data["ip"] == "198.51.100.9"
    delivery.refresh_from_db()
    assert delivery.answer == "no"
    # A second click records nothing more.
    Client().post(no, {"answer": "no"})
    assert ConsentEvent.objects.filter(kind=EventKind.WITHDRAWN).count() == 1


def test_no_after_yes_still_unsubscribes(sent, newsletter):
    delivery, yes, no = sent
    Client().post(yes, {"answer": "yes"})
    assert current_consent(delivery.contact, newsletter).status == ConsentStatus.GRANTED
    Client().post(no, {"answer": "no"})
    assert current_consent(delivery.contact, newsletter).status == ConsentStatus.WITHDRAWN
    # And a Yes after that does not undo it.
    Client().post(yes, {"answer": "yes"})
    assert current_consent(delivery.contact, newsletter).status == ConsentStatus.WITHDRAWN


def test_no_after_the_deadline_still_unsubscribes(sent, newsletter, time_machine):
    delivery, yes, no = sent
    # Someone who meanwhile consented by another way keeps it at the deadline...
    record_event(delivery.contact, newsletter, EventKind.GRANTED, channel="staff")
    time_machine.move_to(timezone.now() + timedelta(days=DEADLINE_DAYS + 2))
    process_deadlines()
    assert current_consent(delivery.contact, newsletter).status != ConsentStatus.WITHDRAWN
    # ...until they click No: that is never refused.
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(no).content.decode()
    assert buttons_in_answer_form(page) == ["no"]
    Client().post(no, {"answer": "no"})
    assert current_consent(delivery.contact, newsletter).status == ConsentStatus.WITHDRAWN
    # A Yes after the deadline is not taken.
    other = Delivery.objects.exclude(pk=delivery.pk).get()
    other_yes = repermission_urls(repermission_token(other.contact, other.campaign))[0]
    Client().post(other_yes, {"answer": "yes"})
    assert current_consent(other.contact, newsletter).status == ConsentStatus.WITHDRAWN
