"""``akkoord campaign_deadlines``: unsubscribe who did not answer a re-permission mail in time.

Safe to run as often as wanted (e.g. daily from cron); each campaign is
processed once, the day after its deadline.
"""

from django.core.management.base import BaseCommand

from akkoord.campaigns.repermission import process_deadlines


class Command(BaseCommand):
    help = "Withdraw unproven consent of people who did not answer a re-permission mail in time."

    def handle(self, *args, **options):
        withdrawn = process_deadlines()
        self.stdout.write(f"{withdrawn} people unsubscribed after a re-permission deadline")
