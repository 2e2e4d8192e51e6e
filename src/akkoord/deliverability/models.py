"""Bounce and complaint reports, one row per report about one delivery."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReportKind(models.TextChoices):
    HARD = "hard_bounce", _("Hard bounce")
    SOFT = "soft_bounce", _("Soft bounce")
    COMPLAINT = "complaint", _("Complaint")


class ReportSource(models.TextChoices):
    RECEIVER = "receiver", _("Bounce receiver (SMTP)")
    IMAP = "imap", _("Mailbox (IMAP)")
    SES = "ses", "Amazon SES"
    POSTMARK = "postmark", "Postmark"
    MAILGUN = "mailgun", "Mailgun"
    SENDGRID = "sendgrid", "SendGrid"
    BREVO = "brevo", "Brevo"
    API = "api", _("API")


class DeliveryReport(models.Model):
    """A bounce or a complaint about one delivery, and what Akkoord did with it.

    ``fingerprint`` makes a report that arrives twice (a retried webhook, a
    resent DSN) a no-op. ``raw`` holds the report as received for inspection;
    it contains personal data and is erased after ``AKKOORD_BOUNCE_RAW_DAYS``
    by the retention job (``raw_erased_at``). The campaign and sending domain
    are copied so that results keep their counts when a contact is erased.
    """

    kind = models.CharField(_("kind"), max_length=20, choices=ReportKind.choices)
    source = models.CharField(_("source"), max_length=20, choices=ReportSource.choices)
    fingerprint = models.CharField(max_length=64, unique=True)
    delivery = models.ForeignKey(
        "campaigns.Delivery", null=True, on_delete=models.SET_NULL, related_name="reports"
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, on_delete=models.SET_NULL, related_name="reports"
    )
    sending_domain = models.CharField(_("sending domain"), max_length=253, blank=True)
    contact = models.ForeignKey(
        "contacts.Contact", null=True, on_delete=models.SET_NULL, related_name="delivery_reports"
    )
    status_code = models.CharField(_("status code"), max_length=12, blank=True)
    diagnostic = models.CharField(_("diagnostic"), max_length=300, blank=True)
    feedback_type = models.CharField(_("feedback type"), max_length=30, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)
    raw = models.TextField(blank=True)
    raw_erased_at = models.DateTimeField(null=True, blank=True)
    # This report excluded the address (a hard bounce, or the soft bounce that
    # reached the limit): undoing it lifts that exclusion.
    excluded = models.BooleanField(default=False)
    complaint_seq = models.BigIntegerField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["contact", "kind", "occurred_at"]),
            models.Index(fields=["campaign", "kind"]),
        ]
        verbose_name = _("delivery report")

    def __str__(self) -> str:
        return f"{self.kind} {self.pk}"

    @property
    def is_undone(self) -> bool:
        return self.undone_at is not None

    @property
    def can_undo(self) -> bool:
        # A complaint is a withdrawal in the append-only ledger: only the
        # person can give consent again, staff cannot take it back.
        return self.kind != ReportKind.COMPLAINT and not self.is_undone


class TrackedDelivery(models.Model):
    """A message sent with a pixel and rewritten links: its recipient consented to
    the measuring purpose when it was sent. Results count only these."""

    delivery = models.OneToOneField(
        "campaigns.Delivery", on_delete=models.CASCADE, related_name="tracked"
    )


class TrackingKind(models.TextChoices):
    OPEN = "open", _("Opened")
    CLICK = "click", _("Clicked")


class TrackingEvent(models.Model):
    """The first open of a tracked message, or the first click on one of its links."""

    delivery = models.ForeignKey(
        "campaigns.Delivery", on_delete=models.CASCADE, related_name="tracking_events"
    )
    kind = models.CharField(max_length=10, choices=TrackingKind.choices)
    url = models.CharField(max_length=2000, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["delivery", "kind", "url"], name="first_event_only")
        ]
