"""What the dashboard shows beyond plain counts: the last months, and recent campaigns.

Months are counted from the ledger and the purchases, so the figures are exact
(not a sample): consents given (a grant that needs no confirmation, or a
confirmation), consents withdrawn (withdrawals and spam complaints), and people
who bought something (the basis of the soft opt-in), per calendar month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.formats import date_format

from akkoord.campaigns.models import Campaign, DeliveryStatus
from akkoord.consent.models import Channel, ConsentEvent
from akkoord.consent.rules import EventKind
from akkoord.contacts.models import Purchase

CHART_HEIGHT = 120
BAR_WIDTH = 9
MONTH_WIDTH = 3 * BAR_WIDTH + 12


@dataclass
class Month:
    start: date
    label: str
    given: int = 0
    withdrawn: int = 0
    buyers: int = 0


def _month_starts(today: date, months: int) -> list[date]:
    starts = []
    year, month = today.year, today.month
    for _ in range(months):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def _by_month(queryset, field: str) -> dict[date, int]:
    rows = queryset.annotate(month=TruncMonth(field)).values("month").annotate(n=Count("pk"))
    return {_as_date(row["month"]): row["n"] for row in rows}


def _as_date(value) -> date:
    return value.date() if hasattr(value, "date") else value


def last_months(months: int = 12) -> list[Month]:
    """The last ``months`` calendar months (this one included), oldest first."""
    starts = _month_starts(timezone.localdate(), months)
    since = timezone.make_aware(timezone.datetime(starts[0].year, starts[0].month, 1))
    events = ConsentEvent.objects.filter(occurred_at__gte=since)
    given = _by_month(
        events.filter(
            Q(kind=EventKind.GRANTED, needs_confirmation=False) | Q(kind=EventKind.CONFIRMED),
            purpose__is_marketing=True,
        ),
        "occurred_at",
    )
    withdrawn = _by_month(
        events.filter(kind__in=[EventKind.WITHDRAWN, EventKind.COMPLAINED]), "occurred_at"
    )
    buyers = {
        _as_date(row["month"]): row["n"]
        for row in Purchase.objects.filter(purchased_on__gte=starts[0])
        .annotate(month=TruncMonth("purchased_on"))
        .values("month")
        .annotate(n=Count("contact", distinct=True))
    }
    return [
        Month(
            start=start,
            label=date_format(start, "M Y"),
            given=given.get(start, 0),
            withdrawn=withdrawn.get(start, 0),
            buyers=buyers.get(start, 0),
        )
        for start in starts
    ]


def chart_bars(months: list[Month]) -> dict:
    """Bar geometry for an inline SVG (no script, no third-party library)."""
    peak = max([1] + [max(m.given, m.withdrawn, m.buyers) for m in months])
    bars = []
    for index, month in enumerate(months):
        left = index * MONTH_WIDTH
        for offset, (kind, value) in enumerate(
            (("given", month.given), ("withdrawn", month.withdrawn), ("buyers", month.buyers))
        ):
            height = round(CHART_HEIGHT * value / peak)
            bars.append(
                {
                    "kind": kind,
                    "x": left + offset * BAR_WIDTH,
                    "y": CHART_HEIGHT - height,
                    "height": height,
                    "value": value,
                    "label": month.label,
                }
            )
    return {
        "bars": bars,
        "width": len(months) * MONTH_WIDTH,
        "height": CHART_HEIGHT,
        "labels": [
            {"x": i * MONTH_WIDTH + MONTH_WIDTH // 2 - 6, "text": m.label}
            for i, m in enumerate(months)
        ],
        "bar_width": BAR_WIDTH - 1,
    }


def recent_campaigns(limit: int = 5) -> list[dict]:
    """The latest campaigns with what happened to their mail."""
    campaigns = Campaign.objects.annotate(
        sent=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.SENT)),
        skipped=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.SKIPPED)),
        failed=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
    ).order_by("-created_at", "-pk")[:limit]
    rows = []
    for campaign in campaigns:
        unsubscribed = ConsentEvent.objects.filter(
            kind=EventKind.WITHDRAWN,
            channel=Channel.UNSUBSCRIBE,
            channel_ref=f"campaign:{campaign.pk}",
        ).count()
        rows.append({"campaign": campaign, "unsubscribed": unsubscribed})
    return rows
