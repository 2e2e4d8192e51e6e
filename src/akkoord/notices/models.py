"""The privacy confirmation mail (DOMAIN §4): its templates and when it is sent."""

from django.db import models
from django.utils.translation import gettext_lazy as _


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
        return self.subject_nl if language == "nl" else self.subject_en

    def body(self, language: str) -> str:
        return self.body_nl if language == "nl" else self.body_en
