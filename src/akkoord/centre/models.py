"""The customer centre's own data: its settings and erasure requests awaiting review."""

from __future__ import annotations

import calendar
from datetime import date, datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def add_months(moment: datetime, months: int) -> datetime:
    """The same moment ``months`` later, clamped to the month's last day.

    GDPR art. 12(3) counts in months ("within one month of receipt"), not 30 days.
    """
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


class CentreSettings(models.Model):
    """Organisation-wide settings of the customer centre (one row)."""

    erasure_needs_review = models.BooleanField(
        _("erasure requests wait for staff review"),
        default=False,
        help_text=_(
            "Off: a confirmed erasure request is carried out at once. On: it is listed under "
            "Requests and a staff user carries it out within the legal deadline."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("customer centre settings")

    def __str__(self) -> str:
        return "customer centre settings"

    @classmethod
    def current(cls) -> CentreSettings:
        row = cls.objects.order_by("pk").first()
        if row is None:
            row = cls.objects.create()
        return row


class RequestStatus(models.TextChoices):
    OPEN = "open", _("Open")
    EXTENDED = "extended", _("Open, deadline extended")
    DONE = "done", _("Carried out")
    DECLINED = "declined", _("Declined")


class ErasureRequest(models.Model):
    """A person's request to be erased (GDPR art. 17) that waits for staff review.

    Holds no personal data of its own: the person is the linked contact, and the
    link goes (``SET_NULL``) when the contact is erased. What remains is when the
    request came in, its deadline and how it was handled: the proof that the
    organisation answered in time (art. 12(3), art. 5(2)).
    """

    contact = models.ForeignKey(
        "contacts.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="erasure_requests",
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    deadline = models.DateTimeField(_("deadline"))
    extended_until = models.DateTimeField(_("extended until"), null=True, blank=True)
    extension_notice = models.TextField(
        _("notice of the extension sent to the person"), blank=True, max_length=2000
    )
    extension_notified_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    decline_reason = models.TextField(_("reason for declining"), blank=True, max_length=2000)
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["deadline", "id"]
        verbose_name = _("erasure request")

    def __str__(self) -> str:
        return f"erasure request {self.pk}"

    def save(self, *args, **kwargs):
        if self.deadline is None:
            self.deadline = add_months(self.received_at, 1)
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status in (RequestStatus.OPEN, RequestStatus.EXTENDED)

    @property
    def due(self) -> datetime:
        """The deadline that applies now: the extension if there is one."""
        return self.extended_until or self.deadline

    @property
    def latest_extension(self) -> datetime:
        """Art. 12(3): the deadline may be extended by two further months."""
        return add_months(self.deadline, 2)

    def days_left(self, today: date | None = None) -> int:
        today = today or timezone.localdate()
        return (timezone.localtime(self.due).date() - today).days

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due < timezone.now()

    def can_extend(self) -> bool:
        # The extension must be announced within the first month.
        return self.status == RequestStatus.OPEN and timezone.now() <= self.deadline
