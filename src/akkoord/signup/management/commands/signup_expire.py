from django.core.management.base import BaseCommand

from akkoord.signup.expiry import expire_unconfirmed


class Command(BaseCommand):
    help = "Delete unconfirmed sign-ups past their expiry (and contacts that were nothing more)."

    def handle(self, *args, **options):
        report = expire_unconfirmed()
        self.stdout.write(
            f"removed {report.signups_removed} unconfirmed sign-ups "
            f"and {report.contacts_removed} contacts"
        )
