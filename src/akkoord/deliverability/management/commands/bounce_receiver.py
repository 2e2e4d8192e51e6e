"""``akkoord bounce_receiver``: the bounce receiver as its own process (production)."""

from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from akkoord.deliverability.receiver import parse_listen, start_receiver


class Command(BaseCommand):
    help = (
        "Receive bounces and complaints for the bounce domain by SMTP (or LMTP) and act on "
        "them. Listens on AKKOORD_BOUNCE_RECEIVER (host:port) unless --listen is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--listen", default="", help="host:port to listen on.")
        parser.add_argument("--lmtp", action="store_true", help="Speak LMTP instead of SMTP.")

    def handle(self, *args, listen, lmtp, **options):
        where = listen or settings.AKKOORD_BOUNCE_RECEIVER or "127.0.0.1:2525"
        try:
            host, port = parse_listen(where)
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        lmtp = lmtp or settings.AKKOORD_BOUNCE_RECEIVER_LMTP
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        try:
            controller = start_receiver(host, port, lmtp=lmtp)
        except Exception as error:  # noqa: BLE001 - aiosmtpd reports bind errors in several types
            raise CommandError(f"Cannot listen on {host}:{port} ({error}).") from None
        self.stdout.write(
            f"Bounce receiver ({'LMTP' if lmtp else 'SMTP'}) listening on {host}:{port}. "
            "Ctrl-C stops it."
        )
        self.stdout.flush()
        try:
            while not stop.wait(1.0):
                pass
        finally:
            controller.stop()
        self.stdout.write("Bounce receiver stopped.")
