"""``akkoord send_campaign <id> [--workers N]``: send a campaign from the command line.

Freezes the audience if the campaign has not started, then runs N worker
processes (each a plain OS process running ``--worker``) until the campaign
is finished, paused or cancelled. Workers may also run on other machines
against the same database; a killed worker's rows are taken over once their
lease has run out.
"""

import subprocess
import sys

from django.core.management.base import BaseCommand, CommandError

from akkoord.campaigns.audience import CampaignNotReady, freeze
from akkoord.campaigns.messenger import SmtpMessenger
from akkoord.campaigns.models import Campaign, CampaignStatus
from akkoord.campaigns.pipeline import run_worker


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
            default=120.0,
            help="Seconds before a claim of a silent worker expires.",
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
        if options["workers"] <= 1:
            stats = self._work(campaign, options)
            self.stdout.write(f"sent={stats.sent} skipped={stats.skipped} failed={stats.failed}")
            return
        command = [sys.executable, "-m", "akkoord", "send_campaign", str(campaign.pk), "--worker"]
        for name in ("batch_size", "commit_every", "lease"):
            command += [f"--{name.replace('_', '-')}", str(options[name])]
        if options["smtp_url"]:
            command += ["--smtp-url", options["smtp_url"]]
        # The command line is ours: this interpreter, this program, numbers.
        processes = [subprocess.Popen(command) for _ in range(options["workers"])]  # noqa: S603
        codes = [process.wait() for process in processes]
        if any(codes):
            raise CommandError(f"worker exit codes: {codes}")

    def _work(self, campaign, options):
        return run_worker(
            campaign.pk,
            SmtpMessenger(options["smtp_url"]),
            batch_size=options["batch_size"],
            commit_every=options["commit_every"],
            lease_seconds=options["lease"],
        )
