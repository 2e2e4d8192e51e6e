"""Campaign results and their warnings, from the thresholds of the bulk-sender rules."""

import pytest
from django.utils import timezone, translation

from akkoord.campaigns.models import Delivery, DeliveryStatus
from akkoord.deliverability.models import ReportKind, ReportSource
from akkoord.deliverability.results import Results, warnings_for
from akkoord.deliverability.services import fingerprint, record_report


@pytest.mark.parametrize(
    ("complaints", "bounced", "expected"),
    [
        (0, 0, []),
        (0, 20, []),  # exactly 2%: not above
        (0, 21, ["Bounce rate above 2%"]),
        (1, 0, ["at or above 0.1%"]),  # 0.1%: near the limit
        (3, 0, ["at or above 0.1%"]),  # 0.3%: still not above
        (4, 0, ["Complaint rate above 0.3%"]),
        (4, 30, ["Complaint rate above 0.3%", "Bounce rate above 2%"]),
    ],
)
def test_warnings_follow_the_thresholds(complaints, bounced, expected):
    with translation.override("en"):
        found = warnings_for(
            Results(label="x", delivered=1000, complaints=complaints, hard=bounced)
        )
    assert len(found) == len(expected)
    for text, part in zip(found, expected, strict=True):
        assert part in text


def test_no_mail_sent_gives_no_rates_and_no_warnings():
    assert warnings_for(Results(label="x")) == []


@pytest.mark.django_db
def test_campaign_page_and_dashboard_show_the_counts(
    dpo_client, make_campaign, newsletter, contact
):
    campaign = make_campaign(newsletter, mail_class="marketing_other", audience="optins")
    campaign.started_at = timezone.now()
    campaign.save()
    delivery = Delivery.objects.create(
        campaign=campaign, contact=contact, language="nl", basis="consent",
        reason="ok_consent", status=DeliveryStatus.SENT, sent_at=timezone.now(),
    )  # fmt: skip
    record_report(
        ReportKind.COMPLAINT, delivery, source=ReportSource.API, fingerprint=fingerprint("c")
    )
    page = dpo_client.get(f"/deliverability/campaigns/{campaign.pk}/").content.decode()
    # The staff pages speak Dutch by default.
    assert "<svg" in page and "Klachtpercentage boven 0,3%" in page
    dashboard = dpo_client.get("/").content.decode()
    assert "1 afgeleverd, 0 gebounced, 1 klachten" in dashboard
