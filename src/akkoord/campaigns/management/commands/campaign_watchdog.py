"""``akkoord campaign_watchdog``: one pass of the sending watchdog.

``akkoord worker`` runs the watchdog by itself; run this every minute from
cron where sending tasks run on other workers (``rqworker``).
"""

from django.core.management.base import BaseCommand

from akkoord.campaigns.watchdog import requeue_stalled


class Command(BaseCommand):
    help = "Queue a new sending task for every sending campaign whose worker died."

    def handle(self, *args, **options):
        requeued = requeue_stalled()
        self.stdout.write(f"campaigns taken over: {len(requeued)}")
