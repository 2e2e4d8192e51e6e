"""``akkoord send_campaign <id> [--workers N]``: send a campaign from the command line.

Freezes the audience if the campaign has not started, then runs N worker
processes (each a plain OS process running ``--worker``) until the campaign
is finished, paused or cancelled. Workers may also run on other machines
against the same database; a killed worker's rows are taken over once their
lease has run out.

Exit codes: 0 = the campaign is finished and no message failed; 1 = it could
not start (unknown, not ready, not sending) or a worker crashed; 3 = it ended
with failed deliveries, or stopped before the end (paused, cancelled, or
waiting for retries due later). The last line is always the summary.
"""

import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from akkoord.campaigns.audience import CampaignNotReady, freeze
from akkoord.campaigns.messenger import SmtpMessenger
from akkoord.campaigns.models import Campaign, CampaignStatus, Delivery, DeliveryStatus
from akkoord.campaigns.pipeline import run_worker
from akkoord.lib.cli import Progress


class Command(BaseCommand):
    help = "Send a campaign with N worker processes."
    # Workers start often (one per process, restarted after a crash): skip the
    # project-wide checks, which load every URL map and template.
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("campaign_id", type=int)
        parser.add_argument("--workers", type=int, default=1)
        parser.add_argument("--worker", action="store_true", help="Run one worker in this process.")
        parser.add_argument("--batch-size", type=int, default=100)
        parser.add_argument("--commit-every", type=int, default=10)
        parser.add_argument(
            "--lease",
            type=float,
            default=float(settings.AKKOORD_SENDING_LEASE_SECONDS),
            help="Seconds before a claim of a silent worker expires "
            "(default: AKKOORD_SENDING_LEASE_SECONDS).",
        )
        parser.add_argument("--smtp-url", default=None)

    def handle(self, *args, **options):
        campaign = Campaign.objects.filter(pk=options["campaign_id"]).first()
        if campaign is None:
            raise CommandError(f"No campaign with id {options['campaign_id']}.")
        if options["worker"]:
            stats = self._work(campaign, options)
            self.stdout.write(
                f"worker done: sent={stats.sent} skipped={stats.skipped} failed={stats.failed} ({stats.stopped_because})"
            )
            return
        if campaign.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
            try:
                count = freeze(campaign)
            except CampaignNotReady as error:
                raise CommandError(str(error)) from None
            self.stdout.write(f"audience frozen: {count} recipients")
        if campaign.status != CampaignStatus.SENDING:
            campaign.refresh_from_db()
            if campaign.status != CampaignStatus.SENDING:
                raise CommandError(f"The campaign is {campaign.status}, not sending.")
        progress = Progress(self.stderr, "messages sent")
        if options["workers"] <= 1:
            self._work(campaign, options, on_sent=lambda _pk: progress(progress.count + 1))
        else:
            self._run_processes(campaign, options, progress)
        progress.done()
        self._finish(campaign)

    def _run_processes(self, campaign, options, progress):
        command = [sys.executable, "-m", "akkoord", "send_campaign", str(campaign.pk), "--worker"]
        for name in ("batch_size", "commit_every", "lease"):
            command += [f"--{name.replace('_', '-')}", str(options[name])]
        if options["smtp_url"]:
            command += ["--smtp-url", options["smtp_url"]]
        # The command line is ours: this interpreter, this program, numbers.
        processes = [subprocess.Popen(command) for _ in range(options["workers"])]  # noqa: S603
        while any(process.poll() is None for process in processes):
            progress(_counts(campaign)[DeliveryStatus.SENT])
            time.sleep(1)
        codes = [process.returncode for process in processes]
        if any(codes):
            raise CommandError(f"worker exit codes: {codes}")

    def _finish(self, campaign):
        campaign.refresh_from_db()
        counts = _counts(campaign)
        summary = (
            f"campaign {campaign.pk} {campaign.status}: sent={counts[DeliveryStatus.SENT]} "
            f"skipped={counts[DeliveryStatus.SKIPPED]} failed={counts[DeliveryStatus.FAILED]} "
            f"remaining={counts[DeliveryStatus.QUEUED] + counts[DeliveryStatus.SENDING]}"
        )
        if counts[DeliveryStatus.FAILED] or campaign.status != CampaignStatus.FINISHED:
            raise CommandError(summary, returncode=3)
        self.stdout.write(summary)

    def _work(self, campaign, options, on_sent=None):
        return run_worker(
            campaign.pk,
            SmtpMessenger(options["smtp_url"]),
            batch_size=options["batch_size"],
            commit_every=options["commit_every"],
            lease_seconds=options["lease"],
            on_sent=on_sent,
        )


def _counts(campaign) -> dict[str, int]:
    rows = (
        Delivery.objects.filter(campaign=campaign)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = dict.fromkeys(DeliveryStatus.values, 0)
    counts.update(dict(rows))
    return counts
