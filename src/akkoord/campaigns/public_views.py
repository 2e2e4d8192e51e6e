"""Public pages reached from a mail: one-click unsubscribe and re-permission answers.

GET never changes anything (mail scanners follow links); it shows a page with
one button. POST does the work, without cookies or a CSRF token: the signed
token in the URL is the authority (RFC 8058 one-click). There is no rate
limit: mailbox providers post one-click unsubscribes from few addresses, and an
unsubscribe must never be refused (``campaigns.unsubscribe`` waits out a busy
database rather than failing, and records one withdrawal however many posts
arrive at once).
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from akkoord.campaigns.models import Campaign, Delivery
from akkoord.campaigns.repermission import record_answer
from akkoord.campaigns.unsubscribe import unsubscribe as unsubscribe_from
from akkoord.consent.ledger import current_consent
from akkoord.consent.models import Purpose
from akkoord.consent.rules import ConsentStatus
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
    unsubscribe_from(
        contact,
        purpose,
        campaign_id=campaign_id,
        proof=_proof(request, campaign_id, "one-click" if one_click else "page"),
    )
    return render(request, "campaigns/public/unsubscribed.html", context)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def repermission(request, token):
    """The Yes or the No of a re-permission mail.

    The link in the mail names the answer (``?answer=yes`` or ``?answer=no``)
    and GET shows a page whose one button gives that answer; the other answer
    is a plain link away. No is always honoured, also after a Yes or after the
    deadline: unsubscribing is never refused. Yes counts only as the first
    answer and before the deadline.
    """
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
    expired = campaign.deadline is not None and timezone.localdate() > campaign.deadline
    context = {
        "organisation": Organisation.current(),
        "campaign": campaign,
        "purpose": campaign.purpose,
        "purpose_name": campaign.purpose.name(get_language()),
        "delivery": delivery,
        "expired": expired,
        "unsubscribed": current_consent(contact, campaign.purpose).status
        == ConsentStatus.WITHDRAWN,
    }
    if request.method == "GET":
        context["answer"] = "no" if request.GET.get("answer") == "no" else "yes"
        return render(request, "campaigns/public/repermission.html", context)
    answer = request.POST.get("answer")
    if answer not in ("yes", "no"):
        context["answer"] = "no" if request.GET.get("answer") == "no" else "yes"
        context["error"] = True
        return render(request, "campaigns/public/repermission.html", context, status=400)
    if answer == "yes" and (delivery.answer or expired):
        context["answer"] = "yes"
        return render(request, "campaigns/public/repermission.html", context)
    context["answered"] = record_answer(
        delivery,
        answer,
        ip=ratelimit.client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    return render(request, "campaigns/public/repermission_done.html", context)
