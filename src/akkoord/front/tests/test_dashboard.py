"""The staff dashboard: counts, consent per purpose, recent activity, registered panels."""

from datetime import date

import pytest
from django.conf import settings

from akkoord.consent.ledger import record_event
from akkoord.consent.rules import EventKind
from akkoord.contacts.services import record_purchase, register_contact
from akkoord.lib import panels


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 costs most of each test's time; these tests are not about passwords."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def speak(client, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return {"HTTP_ACCEPT_LANGUAGE": language}


@pytest.mark.parametrize(
    ("language", "word"), [("nl", "Toestemming per doel"), ("en", "Consent per purpose")]
)
def test_dashboard_renders_in_both_languages(dpo_client, dpo, language, word):
    dpo.language = language
    dpo.save()
    response = dpo_client.get("/", **speak(dpo_client, language))
    assert response.status_code == 200
    html = response.content.decode()
    assert word in html
    # The project-level catalogue translates the base template and the navigation.
    skip, nav = {"nl": ("Naar de inhoud", "Overzicht"), "en": ("Skip to content", "Dashboard")}[
        language
    ]
    assert skip in html
    assert f"{nav}</a>" in html


def test_dashboard_counts(marketer_client, contact, newsletter, product_updates):
    other, _ = register_contact({"email": "b@example.com"}, source_kind="import")
    record_purchase(contact, purchased_on=date.today(), description="Fiets", objection_offered=True)
    record_event(contact, newsletter, EventKind.GRANTED, channel="staff", needs_confirmation=False)
    record_event(other, newsletter, EventKind.GRANTED, channel="form", needs_confirmation=True)
    record_event(other, product_updates, EventKind.GRANTED, channel="form")
    context = marketer_client.get("/").context
    assert context["contact_count"] == 2
    assert context["customer_count"] == 1
    rows = {row["purpose"].key: row for row in context["purposes"]}
    assert (rows["nieuwsbrief"]["granted"], rows["nieuwsbrief"]["pending"]) == (1, 1)
    assert (rows["productupdates"]["granted"], rows["productupdates"]["pending"]) == (1, 0)
    assert len(context["recent"]) >= 4


def test_registered_panels_are_rendered(marketer_client, monkeypatch):
    def panel(request):
        return ("front/_settings_nav.html", {"section": "purposes"})

    monkeypatch.setattr(panels.dashboard, "_panels", [panel, lambda request: None])
    assert 'href="/settings/fields/"' in marketer_client.get("/").content.decode()


def test_signed_out_visitors_are_sent_away(client, db):
    assert client.get("/").status_code in (302, 403)


def test_the_last_months_and_recent_campaigns_are_counted_from_what_happened(
    admin_client, newsletter
):
    """Expected figures are counted by hand from what the test records."""
    from django.utils import timezone

    from akkoord.campaigns.models import Campaign, Delivery, MailTemplate, SendingDomain

    people = [
        register_contact({"email": f"p{i}@example.nl"}, source_kind="staff")[0] for i in range(4)
    ]
    # Two consents given this month (no confirmation needed for staff), one withdrawn.
    for person in people[:2]:
        record_event(
            person, newsletter, EventKind.GRANTED, channel="staff", needs_confirmation=False
        )
    record_event(people[0], newsletter, EventKind.WITHDRAWN, channel="staff")
    # A grant that still waits for its confirmation is not (yet) a consent given.
    record_event(people[3], newsletter, EventKind.GRANTED, channel="form", needs_confirmation=True)
    # Three purchases this month by two people: two buyers.
    for person in (people[1], people[1], people[2]):
        record_purchase(
            person, purchased_on=timezone.localdate(), description="Fiets", objection_offered=True
        )
    campaign = Campaign.objects.create(
        name="Lentefietsen",
        purpose=newsletter,
        mail_class="marketing_other",
        audience="optins",
        template=MailTemplate.objects.create(name="T", subject_nl="s", text_nl="t"),
        sending_domain=SendingDomain.objects.create(domain="mail.example.com", selector="a"),
        from_name="Winkel",
        from_local="nieuws",
    )
    for person, status in zip(people, ["sent", "sent", "skipped", "failed"], strict=True):
        Delivery.objects.create(campaign=campaign, contact=person, status=status, language="nl")
    record_event(
        people[1],
        newsletter,
        EventKind.WITHDRAWN,
        channel="unsubscribe",
        channel_ref=f"campaign:{campaign.pk}",
    )

    page = admin_client.get("/", **speak(admin_client, "nl")).content.decode()
    months = page[page.index('id="months-table"') :]
    last_row = months[: months.index("</tbody>")].rsplit("<tr>", 1)[1]
    assert str(timezone.localdate().year) in last_row  # the last row is this month
    # given 2, withdrawn 2 (one by staff, one by unsubscribe), buyers 2
    assert "<td>2</td><td>2</td><td>2</td>" in last_row
    campaigns = page[page.index('id="recent-campaigns"') :]
    row = campaigns[campaigns.index("Lentefietsen") :]
    row = row[: row.index("</tr>")]
    # sent 2, skipped 1, failed 1, unsubscribed 1
    assert "<td>2</td><td>1</td><td>1</td><td>1</td>" in row
    assert "<svg" in page and "https://" not in page.split("<svg", 1)[1].split("</svg>")[0]
