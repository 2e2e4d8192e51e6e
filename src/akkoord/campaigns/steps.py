"""The guided way to a first campaign: purpose → sending domain → template → campaign.

Each step says whether it is done and, if not, what is missing and where to do it,
so a marketer who opens "New campaign" on an empty install is led, not refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext as _

from akkoord.campaigns.models import MailTemplate, SendingDomain
from akkoord.consent.models import Purpose


@dataclass(frozen=True)
class Step:
    title: str
    done: bool
    missing: str
    url: str
    action: str


def setup_steps() -> list[Step]:
    has_purpose = Purpose.objects.filter(is_active=True, is_marketing=True).exists()
    has_domain = SendingDomain.objects.exists()
    has_template = any(t.languages() for t in MailTemplate.objects.all()[:50])
    return [
        Step(
            _("A purpose to mail for"),
            has_purpose,
            _(
                "Every marketing mail is sent for one purpose people can consent to, such as a newsletter."
            ),
            reverse("front:purposes"),
            _("Set up purposes"),
        ),
        Step(
            _("A sending domain"),
            has_domain,
            _(
                "Mail goes out from your own domain, signed with DKIM. Add the domain, then "
                "publish the record Akkoord shows you."
            ),
            reverse("campaigns:domains"),
            _("Add a sending domain"),
        ),
        Step(
            _("A template"),
            has_template,
            _("The mail itself: a subject and a text, in Dutch, English or both."),
            reverse("campaigns:template_new"),
            _("Write a template"),
        ),
    ]


def ready_for_campaign(steps: list[Step]) -> bool:
    return all(step.done for step in steps)
