"""The public pixel and click links of measured mail (``tracking``)."""

from __future__ import annotations

import base64

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.views.decorators.cache import never_cache

from akkoord.deliverability import tracking
from akkoord.deliverability.models import TrackingKind

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@never_cache
def pixel(request, token: str):
    """A 1x1 GIF, whatever the token: an invalid one reveals nothing."""
    delivery_id = tracking.read_open(token)
    if delivery_id is not None:
        tracking.record(delivery_id, TrackingKind.OPEN)
    return HttpResponse(PIXEL, content_type="image/gif")


@never_cache
def click(request, token: str):
    found = tracking.read_click(token)
    if found is None:
        raise Http404
    delivery_id, target = found
    tracking.record(delivery_id, TrackingKind.CLICK, target)
    return HttpResponseRedirect(target)
