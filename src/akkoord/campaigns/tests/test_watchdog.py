"""A sending campaign without a live worker: seen by /healthz and the campaign page,
and taken over by the watchdog (in-process here; test_worker_kill.py kills a
real `akkoord worker`)."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from akkoord.campaigns.audience import freeze
from akkoord.campaigns.messenger import FakeMessenger
from akkoord.campaigns.models import Campaign, CampaignStatus
from akkoord.campaigns.pipeline import run_worker
from akkoord.campaigns.tests.conftest import grant
from akkoord.campaigns.watchdog import requeue_stalled

pytestmark = pytest.mark.django_db


@pytest.fixture
def sending(newsletter, make_campaign, contact, settings, smtp_sink):
    """A frozen campaign whose worker was last alive long ago."""
    settings.AKKOORD_SENDING_LEASE_SECONDS = 60
    settings.AKKOORD_SMTP_URL = smtp_sink.url
    grant(contact, newsletter)
    campaign = make_campaign(newsletter, "marketing_other", "optins")
    freeze(campaign)
    Campaign.objects.filter(pk=campaign.pk).update(
        sending_beat_at=timezone.now() - timedelta(seconds=61)
    )
    return campaign


def test_healthz_reports_a_sending_campaign_whose_worker_went_silent(client, sending):
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json()["campaigns"] == "stalled"
    assert health.json()["status"] == "degraded"


def test_healthz_is_ok_while_a_worker_renews_the_lease(client, sending):
    Campaign.objects.filter(pk=sending.pk).update(sending_beat_at=timezone.now())
    assert client.get("/healthz").json()["campaigns"] == "ok"
    Campaign.objects.filter(pk=sending.pk).update(
        status=CampaignStatus.PAUSED, sending_beat_at=timezone.now() - timedelta(hours=1)
    )
    assert client.get("/healthz").json()["campaigns"] == "ok", "a paused campaign is not stalled"


def test_the_campaign_page_says_since_when_nothing_moved(marketer_client, sending):
    since = timezone.localtime(Campaign.objects.get(pk=sending.pk).sending_beat_at)
    shown = since.strftime("%Y-%m-%d %H:%M")
    for language, words in (("en", "No progress since"), ("nl", "Geen voortgang sinds")):
        marketer_client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
        page = marketer_client.get(f"/campaigns/{sending.pk}/").content.decode()
        assert words in page and shown in page, language
        progress = marketer_client.get(f"/campaigns/{sending.pk}/progress").json()
        assert words in progress["stalled"]
    translation.activate("nl")


def test_a_running_worker_keeps_the_campaign_from_looking_stalled(client, sending):
    run_worker(sending.pk, FakeMessenger(), lease_seconds=60)
    sending.refresh_from_db()
    assert sending.status == CampaignStatus.FINISHED
    assert (timezone.now() - sending.sending_beat_at).total_seconds() < 60


def test_the_watchdog_queues_a_stalled_campaign_once_and_it_finishes(sending, smtp_sink):
    assert requeue_stalled() == [sending.pk]
    sending.refresh_from_db()
    # The immediate task backend ran the new sending task at once.
    assert sending.status == CampaignStatus.FINISHED
    assert smtp_sink.recipients() == ["jan.jansen@example.nl"]
    assert requeue_stalled() == []


def test_the_watchdog_queues_a_campaign_at_most_once_per_lease(sending, smtp_sink):
    Campaign.objects.filter(pk=sending.pk).update(requeued_at=timezone.now())
    assert requeue_stalled() == []
    Campaign.objects.filter(pk=sending.pk).update(
        requeued_at=timezone.now() - timedelta(seconds=61)
    )
    assert requeue_stalled() == [sending.pk]


def test_the_watchdog_command_takes_over_for_other_task_runners(sending, smtp_sink, capsys):
    call_command("campaign_watchdog")
    assert "campaigns taken over: 1" in capsys.readouterr().out
    assert smtp_sink.recipients() == ["jan.jansen@example.nl"]
