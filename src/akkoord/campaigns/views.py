"""Staff pages: campaigns, templates, sending domains, progress and recipients."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from akkoord.accounts.audit import audit
from akkoord.accounts.decorators import staff_required
from akkoord.accounts.models import AuditAction
from akkoord.campaigns import services
from akkoord.campaigns.audience import CampaignNotReady, check_ready, preview
from akkoord.campaigns.dkimsign import generate_private_key
from akkoord.campaigns.dnscheck import check_domain
from akkoord.campaigns.forms import (
    CampaignForm,
    MailTemplateForm,
    ScheduleForm,
    SendingDomainForm,
)
from akkoord.campaigns.models import (
    Campaign,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
    MailTemplate,
    SendingDomain,
)
from akkoord.campaigns.rendering import CompiledMail, TemplateError
from akkoord.consent.explain import BASIS_TEXTS, REASON_TEXTS
from akkoord.consent.rules import Basis, Reason
from akkoord.organisation.models import Organisation

SAMPLE_CONTEXT = {
    "first_name": "Jan",
    "last_name": "Jansen",
    "full_name": "Jan Jansen",
    "organisation_name": "Voorbeeld BV",
    "email": "jan.jansen@example.nl",
    "unsubscribe_url": "#unsubscribe",
    "privacy_url": "#privacy",
    "yes_url": "#yes",
    "no_url": "#no",
}


@staff_required
def campaign_list(request):
    campaigns = Campaign.objects.select_related("purpose").annotate(n=Count("deliveries"))
    return render(
        request,
        "campaigns/list.html",
        {
            "campaigns": campaigns[:200],
            "templates": MailTemplate.objects.all()[:200],
            "domains": SendingDomain.objects.all(),
        },
    )


@staff_required(change=True)
def campaign_new(request):
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        campaign = form.save(commit=False)
        campaign.created_by = request.user
        campaign.save()
        audit(request.user, AuditAction.CREATE, campaign)
        return redirect("campaigns:detail", campaign.pk)
    return render(request, "campaigns/form.html", {"form": form, "title": _("New campaign")})


@staff_required(change=True)
def campaign_edit(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    if not campaign.can_start:
        messages.error(request, _("A campaign that has started cannot be changed."))
        return redirect("campaigns:detail", pk)
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        form.save()
        audit(request.user, AuditAction.CHANGE, campaign)
        return redirect("campaigns:detail", pk)
    return render(request, "campaigns/form.html", {"form": form, "title": campaign.name})


def progress_data(campaign: Campaign) -> dict:
    counts = dict(campaign.deliveries.order_by().values_list("status").annotate(n=Count("id")))
    total = sum(counts.values())
    sent = counts.get(DeliveryStatus.SENT, 0)
    remaining = counts.get(DeliveryStatus.QUEUED, 0) + counts.get(DeliveryStatus.SENDING, 0)
    window = 60
    recent = campaign.deliveries.filter(
        status=DeliveryStatus.SENT, sent_at__gte=timezone.now() - timedelta(seconds=window)
    ).count()
    rate = recent / window
    expected_end = None
    if remaining and rate > 0 and campaign.status == CampaignStatus.SENDING:
        expected_end = timezone.now() + timedelta(seconds=remaining / rate)
    return {
        "status": campaign.status,
        "status_label": campaign.get_status_display(),
        "total": total,
        "sent": sent,
        "skipped": counts.get(DeliveryStatus.SKIPPED, 0),
        "failed": counts.get(DeliveryStatus.FAILED, 0),
        "remaining": remaining,
        "rate_per_minute": round(rate * 60, 1),
        "expected_end": timezone.localtime(expected_end).strftime("%Y-%m-%d %H:%M")
        if expected_end
        else "",
    }


@staff_required
def campaign_detail(request, pk):
    campaign = get_object_or_404(
        Campaign.objects.select_related("purpose", "template", "sending_domain"), pk=pk
    )
    context = {"campaign": campaign, "progress": progress_data(campaign)}
    if campaign.can_start:
        result = preview(campaign)
        # The preview shows a sample of names.
        audit(request.user, AuditAction.VIEW, campaign, detail="audience preview")
        context["preview"] = result
        context["per_basis"] = [
            (str(BASIS_TEXTS[Basis(basis)]), count) for basis, count in result.per_basis.items()
        ]
        context["problems"] = check_ready(campaign)
        context["schedule_form"] = ScheduleForm()
    context["languages"] = campaign.template.languages()
    if campaign.is_repermission:
        context["answers"] = dict(
            campaign.deliveries.order_by().values_list("answer").annotate(n=Count("id"))
        )
    return render(request, "campaigns/detail.html", context)


@staff_required
def campaign_progress(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    return JsonResponse(progress_data(campaign))


@staff_required(change=True)
@require_POST
def campaign_start(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("send_at", []):
            messages.error(request, error)
        return redirect("campaigns:detail", pk)
    try:
        outcome = services.start(campaign, request.user, when=form.cleaned_data["send_at"])
    except CampaignNotReady as error:
        messages.error(request, str(error))
        return redirect("campaigns:detail", pk)
    if outcome == "scheduled":
        messages.success(request, _("The campaign is scheduled."))
    else:
        messages.success(request, _("Sending has started."))
    return redirect("campaigns:detail", pk)


def _state_change(action, done_message):
    @staff_required(change=True)
    @require_POST
    def view(request, pk):
        campaign = get_object_or_404(Campaign, pk=pk)
        if action(campaign, request.user):
            messages.success(request, done_message())
        else:
            messages.error(request, _("That is not possible in the campaign's current state."))
        return redirect("campaigns:detail", pk)

    return view


campaign_pause = _state_change(services.pause, lambda: _("The campaign is paused."))
campaign_resume = _state_change(services.resume, lambda: _("Sending has resumed."))
campaign_cancel = _state_change(services.cancel, lambda: _("The campaign is cancelled."))


@staff_required
def campaign_recipients(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    deliveries = campaign.deliveries.select_related("contact").order_by("id")
    status = request.GET.get("status", "")
    if status in DeliveryStatus.values:
        deliveries = deliveries.filter(status=status)
    query = request.GET.get("q", "").strip()[:254]
    if query:
        deliveries = deliveries.filter(contact__email__icontains=query)
    page = Paginator(deliveries, 50).get_page(request.GET.get("page"))
    audit(request.user, AuditAction.VIEW, campaign, detail="recipients")
    rows = [(delivery, explain_delivery(delivery)) for delivery in page]
    return render(
        request,
        "campaigns/recipients.html",
        {
            "campaign": campaign,
            "page": page,
            "rows": rows,
            "status": status,
            "q": query,
            "statuses": DeliveryStatus.choices,
        },
    )


def explain_delivery(delivery: Delivery) -> str:
    """Why did this person get (or not get) this mail? In words."""
    basis = str(BASIS_TEXTS.get(Basis(delivery.basis), delivery.basis))
    if delivery.status == DeliveryStatus.SKIPPED:
        reason = delivery.skip_reason
        if reason in {r.value for r in Reason}:
            return _("Not sent: %(why)s") % {"why": REASON_TEXTS[Reason(reason)]}
        return _("Not sent: %(why)s") % {"why": reason}
    if delivery.basis == Basis.CONSENT and delivery.consent_seq:
        return _("Basis: %(basis)s (consent event #%(seq)s in the ledger)") % {
            "basis": basis,
            "seq": delivery.consent_seq,
        }
    if delivery.basis == Basis.CUSTOMER and delivery.customer_last_purchase:
        return _("Basis: %(basis)s (last purchase on %(date)s)") % {
            "basis": basis,
            "date": delivery.customer_last_purchase.isoformat(),
        }
    return _("Basis: %(basis)s") % {"basis": basis}


@staff_required
@xframe_options_sameorigin
def campaign_mail_preview(request, pk):
    """The HTML part with sample data, for a sandboxed frame on the campaign page."""
    campaign = get_object_or_404(Campaign.objects.select_related("template"), pk=pk)
    language = request.GET.get("language", "nl")
    if language not in campaign.template.languages():
        raise Http404
    subject, html, text = campaign.template.part(language)
    try:
        compiled = CompiledMail(
            subject=subject,
            html=html or "<html><body><pre>" + text + "</pre></body></html>",
            text=text,
            language=language,
            organisation=Organisation.current(),
            from_name=campaign.from_name,
        )
        _subject, _text, rendered = compiled.render(SAMPLE_CONTEXT)
    except TemplateError as error:
        rendered = f"<p>{error}</p>"
    response = HttpResponse(rendered)
    # A sandbox without scripts, forms or same-origin rights: the mail cannot act.
    response["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "frame-ancestors 'self'"
    )
    return response


@staff_required(change=True)
@require_POST
def campaign_test_send(request, pk):
    """Send the mail with sample data to the signed-in staff user's own address."""
    from akkoord.campaigns.messenger import DeliveryError, SmtpMessenger
    from akkoord.campaigns.testsend import send_test

    campaign = get_object_or_404(Campaign, pk=pk)
    language = request.POST.get("language", "nl")
    if language not in campaign.template.languages():
        messages.error(request, _("The template has no text in this language."))
        return redirect("campaigns:detail", pk)
    try:
        send_test(campaign, language, request.user.email, SmtpMessenger())
    except (DeliveryError, TemplateError) as error:
        messages.error(request, _("The test mail was not sent: %(error)s") % {"error": error})
    else:
        audit(request.user, AuditAction.SEND, campaign, detail="test mail to own address")
        messages.success(request, _("A test mail was sent to your own address."))
    return redirect("campaigns:detail", pk)


@staff_required
def template_list(request):
    return render(request, "campaigns/templates.html", {"templates": MailTemplate.objects.all()})


@staff_required(change=True)
def template_edit(request, pk=None):
    template = get_object_or_404(MailTemplate, pk=pk) if pk else None
    form = MailTemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        audit(request.user, AuditAction.CHANGE if pk else AuditAction.CREATE, saved)
        messages.success(request, _("The template is saved."))
        return redirect("campaigns:templates")
    return render(
        request,
        "campaigns/template_form.html",
        {"form": form, "title": template.name if template else _("New template")},
    )


@staff_required
def domain_list(request):
    return render(
        request,
        "campaigns/domains.html",
        {"domains": SendingDomain.objects.all(), "form": SendingDomainForm()},
    )


@staff_required(admin=True)
@require_POST
def domain_new(request):
    form = SendingDomainForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "campaigns/domains.html",
            {"domains": SendingDomain.objects.all(), "form": form},
            status=400,
        )
    domain = form.save(commit=False)
    domain.private_key_pem = generate_private_key()
    domain.save()
    audit(request.user, AuditAction.SETTINGS, domain, detail="DKIM key generated")
    messages.success(request, _("The domain is added. Publish the DKIM record shown below."))
    return redirect("campaigns:domain", domain.pk)


@staff_required
def domain_detail(request, pk):
    domain = get_object_or_404(SendingDomain, pk=pk)
    checks = check_domain(domain) if request.GET.get("check") else None
    return render(
        request,
        "campaigns/domain.html",
        {"domain": domain, "checks": checks, "base_url": settings.AKKOORD_BASE_URL},
    )
