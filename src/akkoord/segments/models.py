"""Tags on contacts and saved segments (conditions that narrow a campaign's audience)."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Tag(models.Model):
    """A label staff, an import or an API client put on contacts (e.g. "fair-2026")."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    contacts = models.ManyToManyField("contacts.Contact", blank=True, related_name="tags")

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")

    def __str__(self) -> str:
        return self.name


class Segment(models.Model):
    """Saved conditions on contacts, reusable by campaigns.

    ``definition`` is a group: ``{"match": "all"|"any", "conditions": [...]}``
    where each condition is a group again or one test (see
    ``segments.conditions``). A segment only ever *narrows* a campaign: the
    recipients are the lawful audience intersected with it.
    """

    name = models.CharField(_("name"), max_length=200)
    definition = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("segment")

    def __str__(self) -> str:
        return self.name
