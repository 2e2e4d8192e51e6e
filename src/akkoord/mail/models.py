"""Mail caught by the local mail catcher (development and demo installs)."""

from django.db import models
from django.utils import timezone


class CaughtMessage(models.Model):
    """A message received by the built-in mail catcher instead of being delivered."""

    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    mail_from = models.CharField(max_length=300)
    recipients = models.TextField()
    subject = models.CharField(max_length=500, blank=True)
    raw = models.BinaryField()

    class Meta:
        ordering = ["-received_at", "-id"]
