"""The requests of people that were carried out, without personal data.

The privacy officer must be able to show what was done with people's requests
(GDPR art. 5(2), accountability): an erasure carried out at once (no review), a
copy of one's data downloaded, a correction made in the customer centre. Each
row says what kind of request it was, when, and through which channel, and
nothing about the person: erasures are counted from the anonymous erasure log,
and for the others only the kind and the date are read from the timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from akkoord.contacts.models import Activity, ActivityKind, ErasureLog

# How far back the list looks: one year, the usual period of an annual review.
WINDOW = timedelta(days=365)
LIMIT = 200

KIND_LABELS = {
    "erasure": _("Erasure"),
    "access": _("Copy of own data"),
    "correction": _("Correction"),
}
CHANNEL_LABELS = {
    "centre": _("Customer centre"),
    "api": _("API"),
    "staff": _("Staff"),
}
# Reviewed erasure requests are listed with their own number above; the
# erasure a reviewer carries out (channel "staff") belongs to one of those.
_ERASURE_CHANNELS_OF_THEIR_OWN = ("centre", "api")


@dataclass(frozen=True)
class HandledRequest:
    kind: str
    at: datetime
    channel: str

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS[self.kind])

    @property
    def channel_label(self) -> str:
        return str(CHANNEL_LABELS.get(self.channel, self.channel))


def handled_requests(now: datetime | None = None) -> tuple[list[HandledRequest], dict[str, int]]:
    """The newest carried-out requests of the last year, and the count per kind."""
    since = (now or timezone.now()) - WINDOW
    rows = [
        HandledRequest("erasure", at, via)
        for at, via in ErasureLog.objects.filter(
            erased_at__gte=since, reason="request", via__in=_ERASURE_CHANNELS_OF_THEIR_OWN
        ).values_list("erased_at", "via")
    ]
    rows += [
        HandledRequest("access", at, "centre")
        for at in Activity.objects.filter(
            kind=ActivityKind.EXPORT, occurred_at__gte=since, data__via="centre"
        ).values_list("occurred_at", flat=True)
    ]
    rows += [
        HandledRequest("correction", at, "centre")
        for at in Activity.objects.filter(
            kind=ActivityKind.CHANGED, occurred_at__gte=since, data__via="centre"
        ).values_list("occurred_at", flat=True)
    ]
    rows.sort(key=lambda row: row.at, reverse=True)
    counts = {kind: sum(1 for row in rows if row.kind == kind) for kind in KIND_LABELS}
    return rows[:LIMIT], counts
