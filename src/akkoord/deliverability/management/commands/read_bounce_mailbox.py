"""``akkoord read_bounce_mailbox``: one pass over the bounce mailbox (IMAP), or every N seconds."""

from __future__ import annotations

import time

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from akkoord.deliverability.mailbox import open_configured, read_mailbox


class Command(BaseCommand):
    help = (
        "Read bounces and complaints from the IMAP mailbox in AKKOORD_BOUNCE_IMAP_URL; "
        "recognised messages are moved to AKKOORD_BOUNCE_IMAP_DONE_FOLDER, others are "
        "left untouched."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=7, help="Look at mail of so many days.")
        parser.add_argument(
            "--every", type=int, default=0, help="Repeat every so many seconds (0: once)."
        )

    def handle(self, *args, days, every, **options):
        while True:
            try:
                mailbox = open_configured()
            except ImproperlyConfigured as error:
                raise CommandError(str(error)) from None
            except OSError as error:
                raise CommandError(f"Cannot reach the mailbox ({type(error).__name__}).") from None
            try:
                result = read_mailbox(mailbox, since_days=days)
            finally:
                mailbox.close()
            self.stdout.write(f"{result.read} read, {result.moved} moved: {result.outcomes}")
            if not every:
                return
            time.sleep(every)
