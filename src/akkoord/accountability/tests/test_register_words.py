"""The register, the statement and the retention page say things as a privacy officer reads them."""

import pytest
from django.utils import translation

from akkoord.accountability.models import ProcessingActivity
from akkoord.accountability.register import prefill
from akkoord.lib.periods import describe_days


@pytest.mark.parametrize(
    ("days", "dutch", "english"),
    [
        (730, "2 jaar", "2 years"),
        (365, "1 jaar", "1 year"),
        (1826, "5 jaar", "5 years"),  # five years with a leap day
        (548, "18 maanden", "18 months"),
        (90, "3 maanden", "3 months"),
        (30, "1 maand", "1 month"),
        (45, "45 dagen", "45 days"),
        (1, "1 dag", "1 day"),
    ],
)
def test_periods_in_the_largest_whole_unit(days, dutch, english):
    with translation.override("nl"):
        assert describe_days(days) == dutch
    with translation.override("en"):
        assert describe_days(days) == english


def test_the_register_shows_retention_in_years_and_purposes_described_not_the_checkbox(
    organisation, newsletter, product_updates, admin_client
):
    prefill()
    activity = ProcessingActivity.objects.get(purpose=newsletter)
    activity.retention_days = 730
    activity.save()
    page = admin_client.get("/accountability/register/", HTTP_ACCEPT_LANGUAGE="nl").content
    page = page.decode()
    assert "2 jaar" in page and "730 dagen" not in page
    # The purpose's description is its own, not the text next to the checkbox.
    assert newsletter.consent_text_nl not in page
    assert "Per e-mail versturen van “Nieuwsbrief”" in page


def test_a_register_that_copied_the_checkbox_text_gets_a_description(
    organisation, newsletter, product_updates
):
    prefill()
    ProcessingActivity.objects.filter(purpose=newsletter).update(
        description_nl=newsletter.consent_text_nl, description_en=newsletter.consent_text_en
    )
    prefill()
    activity = ProcessingActivity.objects.get(purpose=newsletter)
    assert activity.description_nl.startswith("Per e-mail versturen van")
    assert activity.description_en.startswith("Sending “")


def test_a_retention_dry_run_reports_in_words(organisation, admin_client):
    admin_client.post("/accountability/retention/run/", {"dry_run": "1"})
    page = admin_client.get("/accountability/retention/", HTTP_ACCEPT_LANGUAGE="nl").content
    page = page.decode()
    assert "Onbevestigde aanmeldingen verwijderd: 0" in page
    assert "unconfirmed_signups" not in page
    assert "docs/retention.md" not in page
