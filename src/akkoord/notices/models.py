"""The privacy confirmation mail: its templates and when it is sent."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from akkoord.notices import defaults


class NoticeSettings(models.Model):
    """Through which channels a first registration triggers the mail (a singleton)."""

    send_on_form = models.BooleanField(_("after a sign-up form (once confirmed)"), default=True)
    send_on_import = models.BooleanField(_("after an import"), default=True)
    send_on_api = models.BooleanField(_("after registration through the API"), default=True)
    send_on_staff = models.BooleanField(_("after entry by a staff user"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("privacy confirmation settings")

    def __str__(self) -> str:
        return "privacy confirmation settings"

    @classmethod
    def current(cls) -> "NoticeSettings":
        row = cls.objects.order_by("pk").first()
        if row is None:
            row = cls.objects.create()
        return row

    def sends_for(self, channel: str) -> bool:
        return bool(getattr(self, f"send_on_{channel}", False))


class NoticeTemplate(models.Model):
    """One privacy confirmation text, in every language Akkoord speaks.

    Subject and body are Django templates rendered with a small, explicit
    context of plain strings (see ``notices.rendering.CONTEXT_NAMES``).
    """

    name = models.CharField(_("name"), max_length=100)
    is_default = models.BooleanField(_("used for automatic sending"), default=False)
    subject_nl = models.CharField(_("subject (Dutch)"), max_length=200)
    body_nl = models.TextField(_("text (Dutch)"), max_length=10000)
    subject_en = models.CharField(_("subject (English)"), max_length=200)
    body_en = models.TextField(_("text (English)"), max_length=10000)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_default", "name", "pk"]
        verbose_name = _("privacy confirmation template")

    def __str__(self) -> str:
        return self.name

    def subject(self, language: str) -> str:
        return defaults.in_chosen_form(self.subject_nl) if language == "nl" else self.subject_en

    def body(self, language: str) -> str:
        return defaults.in_chosen_form(self.body_nl) if language == "nl" else self.body_en


class QueuedNotice(models.Model):
    """The notice queue: one privacy confirmation still to send, kept in the database.

    Written in the same transaction as the contacts it is for (an import
    chunk), so a crash, a locked database or a refusing mail server cannot
    lose a notice: the row stays until the mail is sent (or no longer needed),
    and a failed attempt is tried again later with a growing pause
    (``notices.services.deliver_queued_notices``).
    """

    contact = models.OneToOneField(
        "contacts.Contact", on_delete=models.CASCADE, related_name="queued_notice"
    )
    channel = models.CharField(max_length=20)
    queued_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    # Due from this moment; while one worker sends it, pushed ahead by a lease.
    next_attempt_at = models.DateTimeField(db_index=True)
    # Why the last attempt failed, without personal data (an error type, an SMTP code).
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("queued privacy confirmation")

    def __str__(self) -> str:
        return f"queued notice {self.pk}"
