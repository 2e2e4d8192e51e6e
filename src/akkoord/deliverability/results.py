"""Campaign results: delivered, bounced (hard, soft), complaints, unsubscribes.

Counted per campaign and per sending domain, each report once per delivery
(a delivery bounced twice counts once) and undone reports not at all. Rates
are against the messages delivered (sent). Warnings follow the mailbox
providers' bulk-sender rules (Gmail, Yahoo, 2024): a complaint rate from 0.1%
is close to the limit, above 0.3% is over it; a bounce rate above 2% says the
list holds dead addresses.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from akkoord.campaigns.models import Campaign, Delivery, DeliveryStatus
from akkoord.consent.models import Channel, ConsentEvent
from akkoord.consent.rules import EventKind
from akkoord.deliverability.models import (
    DeliveryReport,
    ReportKind,
    TrackedDelivery,
    TrackingEvent,
)

COMPLAINT_NEAR = 0.001
COMPLAINT_OVER = 0.003
BOUNCE_OVER = 0.02
THRESHOLDS = {"complaint_near": "0.1%", "complaint_over": "0.3%", "bounce_over": "2%"}


@dataclass
class Results:
    label: str
    delivered: int = 0
    hard: int = 0
    soft: int = 0
    complaints: int = 0
    unsubscribes: int = 0
    campaign: Campaign | None = None
    warnings: list[str] = field(default_factory=list)
    # Measured only for recipients who consented (``tracking``); counts among those.
    tracked: int = 0
    opened: int = 0
    clicked: int = 0

    @property
    def bounced(self) -> int:
        return self.hard + self.soft

    def rate(self, count: int) -> float:
        return count / self.delivered if self.delivered else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.rate(self.complaints)

    @property
    def bounce_rate(self) -> float:
        return self.rate(self.bounced)

    def add(self, other: Results) -> None:
        for name in ("delivered", "hard", "soft", "complaints", "unsubscribes"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def judge(self) -> Results:
        self.warnings = warnings_for(self)
        return self


def warnings_for(result: Results) -> list[str]:
    found = []
    if result.complaint_rate > COMPLAINT_OVER:
        found.append(
            str(
                _(
                    "Complaint rate above 0.3%: Gmail and Yahoo refuse bulk mail from senders "
                    "above this rate."
                )
            )
        )
    elif result.complaint_rate >= COMPLAINT_NEAR:
        found.append(
            str(
                _(
                    "Complaint rate at or above 0.1%: close to the 0.3% that mailbox providers refuse."
                )
            )
        )
    if result.bounce_rate > BOUNCE_OVER:
        found.append(str(_("Bounce rate above 2%: the list holds addresses that no longer exist.")))
    return found


def _report_counts(group_by: str) -> dict:
    """{group: {kind: distinct deliveries}} of the reports not undone."""
    rows = (
        DeliveryReport.objects.filter(undone_at__isnull=True)
        .values(group_by, "kind")
        .annotate(n=Count("delivery_id", distinct=True))
    )
    counts: dict = defaultdict(dict)
    for row in rows:
        counts[row[group_by]][row["kind"]] = row["n"]
    return counts


def per_campaign(campaigns=None) -> list[Results]:
    """Results of every campaign that started sending, newest first."""
    campaigns = list(
        (campaigns if campaigns is not None else Campaign.objects.all())
        .filter(started_at__isnull=False)
        .select_related("sending_domain")
        .annotate(delivered=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.SENT)))
    )
    reports = _report_counts("campaign_id")
    unsubscribes = dict(
        ConsentEvent.objects.filter(
            kind=EventKind.WITHDRAWN,
            channel=Channel.UNSUBSCRIBE,
            channel_ref__in=[f"campaign:{c.pk}" for c in campaigns],
        )
        .values_list("channel_ref")
        .annotate(n=Count("seq"))
    )
    ids = [c.pk for c in campaigns]
    tracked = dict(
        TrackedDelivery.objects.filter(delivery__campaign_id__in=ids)
        .values_list("delivery__campaign_id")
        .annotate(n=Count("pk"))
    )
    measured: dict = defaultdict(dict)
    for row in (
        TrackingEvent.objects.filter(delivery__campaign_id__in=ids)
        .values("delivery__campaign_id", "kind")
        .annotate(n=Count("delivery_id", distinct=True))
    ):
        measured[row["delivery__campaign_id"]][row["kind"]] = row["n"]
    out = []
    for campaign in campaigns:
        kinds = reports.get(campaign.pk, {})
        out.append(
            Results(
                label=campaign.name,
                campaign=campaign,
                delivered=campaign.delivered,
                hard=kinds.get(ReportKind.HARD, 0),
                soft=kinds.get(ReportKind.SOFT, 0),
                complaints=kinds.get(ReportKind.COMPLAINT, 0),
                unsubscribes=unsubscribes.get(f"campaign:{campaign.pk}", 0),
                tracked=tracked.get(campaign.pk, 0),
                opened=measured[campaign.pk].get("open", 0),
                clicked=measured[campaign.pk].get("click", 0),
            ).judge()
        )
    return out


def per_domain() -> list[Results]:
    """The campaigns' results added up per sending domain."""
    totals: dict[str, Results] = {}
    for result in per_campaign():
        domain = result.campaign.sending_domain.domain
        totals.setdefault(domain, Results(label=domain)).add(result)
    return [totals[domain].judge() for domain in sorted(totals)]


def campaign_results(campaign: Campaign) -> Results:
    found = per_campaign(Campaign.objects.filter(pk=campaign.pk))
    return found[0] if found else Results(label=campaign.name, campaign=campaign)


def over_time(campaign: Campaign) -> list[dict]:
    """Per day: messages delivered, bounces and complaints (for the chart)."""
    days: dict = defaultdict(lambda: {"delivered": 0, "bounced": 0, "complaints": 0})
    sent = (
        Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.SENT)
        .values_list("sent_at", flat=True)
        .iterator()
    )
    for moment in sent:
        days[moment.date()]["delivered"] += 1
    for kind, moment in DeliveryReport.objects.filter(
        campaign=campaign, undone_at__isnull=True
    ).values_list("kind", "occurred_at"):
        key = "complaints" if kind == ReportKind.COMPLAINT else "bounced"
        days[moment.date()][key] += 1
    return [{"day": day, **days[day]} for day in sorted(days)]
