"""Public pages reached from a mail: one-click unsubscribe and re-permission answers.

GET never changes anything (mail scanners follow links); it shows a page with
one button. POST does the work, without cookies or a CSRF token: the signed
token in the URL is the authority (RFC 8058 one-click). There is no rate
limit: mailbox providers post one-click unsubscribes from few addresses, and an
unsubscribe must never be refused.
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from akkoord.campaigns.models import Campaign, Delivery
from akkoord.campaigns.repermission import record_answer
from akkoord.consent.ledger import current_consent, record_event
from akkoord.consent.models import Channel, Purpose
from akkoord.consent.rules import ConsentStatus, EventKind
from akkoord.lib import ratelimit, tokens
from akkoord.organisation.models import Organisation


def _invalid(request):
    return render(
        request,
        "campaigns/public/invalid.html",
        {"organisation": Organisation.current()},
        status=404,
    )


def _proof(request, campaign_id, how) -> dict:
    return {
        "ip": ratelimit.client_ip(request),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
        "campaign": campaign_id,
        "how": how,
    }


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    try:
        contact, extra = tokens.contact_for_token(tokens.UNSUBSCRIBE, token, max_age=None)
        purpose = Purpose.objects.get(pk=extra.get("p"))
    except (tokens.InvalidToken, Purpose.DoesNotExist, ValueError, TypeError):
        return _invalid(request)
    campaign_id = extra.get("c")
    context = {
        "organisation": Organisation.current(),
        "purpose": purpose,
        "purpose_name": purpose.name(get_language()),
    }
    if request.method == "GET":
        return render(request, "campaigns/public/unsubscribe.html", context)
    one_click = request.POST.get("List-Unsubscribe") == "One-Click"
    if current_consent(contact, purpose).status != ConsentStatus.WITHDRAWN:
        record_event(
            contact,
            purpose,
            EventKind.WITHDRAWN,
            channel=Channel.UNSUBSCRIBE,
            channel_ref=f"campaign:{campaign_id}",
            proof=_proof(request, campaign_id, "one-click" if one_click else "page"),
            actor="unsubscribe link",
        )
    return render(request, "campaigns/public/unsubscribed.html", context)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def repermission(request, token):
    try:
        contact, extra = tokens.contact_for_token(tokens.REPERMISSION, token, max_age=None)
        campaign = Campaign.objects.select_related("purpose").get(pk=extra.get("c"))
        delivery = Delivery.objects.get(campaign=campaign, contact=contact)
    except (
        tokens.InvalidToken,
        Campaign.DoesNotExist,
        Delivery.DoesNotExist,
        ValueError,
        TypeError,
    ):
        return _invalid(request)
    context = {
        "organisation": Organisation.current(),
        "campaign": campaign,
        "purpose": campaign.purpose,
        "purpose_name": campaign.purpose.name(get_language()),
        "delivery": delivery,
        "suggested": request.GET.get("answer", ""),
        "expired": campaign.deadline is not None and timezone.localdate() > campaign.deadline,
    }
    if request.method == "GET" or delivery.answer or context["expired"]:
        return render(request, "campaigns/public/repermission.html", context)
    answer = request.POST.get("answer")
    if answer not in ("yes", "no"):
        context["error"] = True
        return render(request, "campaigns/public/repermission.html", context, status=400)
    context["answered"] = record_answer(
        delivery,
        answer,
        ip=ratelimit.client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    return render(request, "campaigns/public/repermission_done.html", context)
