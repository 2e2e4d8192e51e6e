"""Staff pages: bounce and complaint reports (see, inspect, undo) and results."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from akkoord.accounts.audit import audit, audit_list_view
from akkoord.accounts.decorators import staff_required
from akkoord.accounts.models import AuditAction
from akkoord.campaigns.models import Campaign
from akkoord.deliverability import results
from akkoord.deliverability.models import DeliveryReport, ReportKind
from akkoord.deliverability.services import CannotUndo, undo_report

PAGE_SIZE = 50


@staff_required
def index(request):
    return render(
        request,
        "deliverability/index.html",
        {
            "campaigns": results.per_campaign(),
            "domains": results.per_domain(),
            "thresholds": results.THRESHOLDS,
        },
    )


CHART_HEIGHT = 110


def _chart(days: list[dict]) -> list[dict]:
    """Bar positions for the chart: delivered on one scale, problems on their own."""
    top = max((d["delivered"] for d in days), default=0) or 1
    problems = max((max(d["bounced"], d["complaints"]) for d in days), default=0) or 1
    for index, day in enumerate(days):
        day["x"] = index * 34 + 2
        for key, scale in (("delivered", top), ("bounced", problems), ("complaints", problems)):
            height = round(CHART_HEIGHT * day[key] / scale)
            day[f"{key}_h"], day[f"{key}_y"] = height, CHART_HEIGHT - height + 5
    return days


@staff_required
def campaign(request, pk: int):
    found = get_object_or_404(Campaign, pk=pk)
    result = results.campaign_results(found)
    days = _chart(results.over_time(found))
    return render(
        request,
        "deliverability/campaign.html",
        {"result": result, "rows": [result], "days": days, "width": max(len(days) * 34, 100)},
    )


@staff_required
def report_list(request):
    reports = DeliveryReport.objects.select_related("campaign")
    kind = request.GET.get("kind", "")
    if kind in ReportKind.values:
        reports = reports.filter(kind=kind)
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    audit_list_view(
        request.user,
        "deliveryreport",
        [report.pk for report in page],
        page_number=page.number,
        filtered=bool(kind),
    )
    return render(
        request,
        "deliverability/reports.html",
        {"page": page, "kind": kind, "kinds": ReportKind.choices},
    )


@staff_required
def report_detail(request, pk: int):
    report = get_object_or_404(DeliveryReport.objects.select_related("campaign", "contact"), pk=pk)
    # The raw report quotes the original mail, with the person's signed links:
    # like a caught mail, it opens for administrators only.
    show_raw = request.user.is_administrator
    audit(request.user, AuditAction.VIEW, report, detail="with raw report" if show_raw else "")
    return render(
        request,
        "deliverability/report.html",
        {"report": report, "show_raw": show_raw},
    )


@require_POST
@staff_required(change=True)
def report_undo(request, pk: int):
    report = get_object_or_404(DeliveryReport, pk=pk)
    try:
        undo_report(report, request.user)
    except CannotUndo as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The report was undone; the address may be mailed again."))
    return redirect("deliverability:report", pk=report.pk)
