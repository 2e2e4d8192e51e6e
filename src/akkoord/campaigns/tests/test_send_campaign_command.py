"""``akkoord send_campaign`` as an operator's script runs it: summary, progress, exit codes."""

import io

import pytest
from django.core.management import CommandError, call_command

from akkoord.campaigns.audience import freeze
from akkoord.campaigns.models import Campaign, CampaignStatus, Delivery, DeliveryStatus
from akkoord.campaigns.tests.conftest import make_population

pytestmark = pytest.mark.django_db


def send(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("send_campaign", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_campaign_sent_in_full_exits_0_with_a_summary(newsletter, make_campaign, smtp_sink):
    make_population(newsletter, 20, seed=5)
    campaign = make_campaign(newsletter, "marketing_other", "optins")
    out, err = send(campaign.pk, "--smtp-url", smtp_sink.url)
    sent = Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.SENT).count()
    assert sent > 0 and len(smtp_sink.messages) == sent
    assert "audience frozen" in out
    assert f"campaign {campaign.pk} finished: sent={sent} skipped=0 failed=0 remaining=0" in out
    assert "messages sent" in err  # the progress line
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.FINISHED


def test_failed_deliveries_make_exit_code_3_and_are_counted(newsletter, make_campaign, smtp_sink):
    make_population(newsletter, 20, seed=5)
    campaign = make_campaign(newsletter, "marketing_other", "optins")
    freeze(campaign)
    send_to = list(Delivery.objects.filter(campaign=campaign).select_related("contact"))
    smtp_sink.refuse[send_to[0].contact.email] = "550 no such user"
    with pytest.raises(CommandError) as failure:
        send(campaign.pk, "--smtp-url", smtp_sink.url)
    assert failure.value.returncode == 3
    assert f"sent={len(send_to) - 1} skipped=0 failed=1 remaining=0" in str(failure.value)


def test_an_unknown_campaign_is_a_clear_error(db):
    with pytest.raises(CommandError, match="No campaign with id 999") as failure:
        send(999)
    assert failure.value.returncode == 1
