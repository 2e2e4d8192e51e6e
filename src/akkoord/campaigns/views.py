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
from akkoord.campaigns.audience import (
    CampaignNotReady,
    check_ready,
    excluded_contacts,
    preview,
)
from akkoord.campaigns.deliveries import explain_delivery, failure_text
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
    DeliveryStatus,
    MailTemplate,
    SendingDomain,
)
from akkoord.campaigns.rendering import SAMPLE_CONTEXT, CompiledMail
from akkoord.campaigns.steps import ready_for_campaign, setup_steps
from akkoord.campaigns.template_preview import PreviewError, previews_for, render_preview
from akkoord.consent.explain import BASIS_TEXTS, explain
from akkoord.consent.rules import Basis, Reason
from akkoord.lib.middleware import CONTENT_SECURITY_POLICY
from akkoord.lib.sandbox import TemplateError
from akkoord.organisation.models import Organisation


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
            **_steps_context(),
        },
    )


def _steps_context() -> dict:
    steps = setup_steps()
    return {"steps": steps, "ready": ready_for_campaign(steps)}


@staff_required(change=True)
def campaign_new(request):
    guide = _steps_context()
    if not guide["ready"]:
        # A form that cannot be saved helps nobody: say what is missing first.
        return render(request, "campaigns/form.html", {"title": _("New campaign"), **guide})
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        campaign = form.save(commit=False)
        campaign.created_by = request.user
        campaign.save()
        form.save_m2m()
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
    stalled_since = campaign.stalled_since()
    return {
        "status": campaign.status,
        "status_label": campaign.get_status_display(),
        "stalled": stalled_message(stalled_since) if stalled_since else "",
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


def stalled_message(since) -> str:
    return _(
        "No progress since %(time)s: no worker is sending this campaign. A running worker "
        "takes it over by itself; if this stays, start or check `akkoord worker`."
    ) % {"time": timezone.localtime(since).strftime("%Y-%m-%d %H:%M:%S")}


def failure_reasons(campaign: Campaign) -> list[tuple[str, int]]:
    """Failed deliveries counted per reason, in words."""
    rows = (
        campaign.deliveries.filter(status=DeliveryStatus.FAILED)
        .order_by()
        .values_list("failure_reason")
        .annotate(n=Count("id"))
    )
    return [(failure_text(reason), count) for reason, count in rows]


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
    if campaign.frozen_at is not None:
        counts = campaign.exclusions.order_by().values_list("reason").annotate(n=Count("id"))
        context["exclusions"] = [
            (reason, explain(Reason(reason)), count)
            for reason, count in sorted(counts, key=lambda item: -item[1])
        ]
    context["languages"] = campaign.template.languages()
    if context["progress"]["failed"]:
        context["failure_reasons"] = failure_reasons(campaign)
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
    if request.POST.get("confirmed") != "yes":
        return _confirm_start(request, campaign, form)
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


def _confirm_start(request, campaign: Campaign, form: ScheduleForm):
    """Before anything is sent: say to how many people, on which basis, and when."""
    problems = check_ready(campaign)
    if problems or not campaign.can_start:
        for problem in problems or [_("That is not possible in the campaign's current state.")]:
            messages.error(request, problem)
        return redirect("campaigns:detail", campaign.pk)
    result = preview(campaign)
    audit(request.user, AuditAction.VIEW, campaign, detail="audience preview")
    return render(
        request,
        "campaigns/confirm_send.html",
        {
            "campaign": campaign,
            "preview": result,
            "per_basis": [
                (str(BASIS_TEXTS[Basis(basis)]), count) for basis, count in result.per_basis.items()
            ],
            "excluded_total": sum(count for _reason, _text, count in result.excluded),
            "send_at": form.cleaned_data["send_at"],
            "send_at_raw": request.POST.get("send_at", ""),
        },
    )


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


@staff_required
def campaign_excluded(request, pk):
    """Who the campaign leaves out, by name, with the rule that leaves them out.

    Before sending: as the engine decides now. Once the audience is frozen: as
    it was decided then (stored with the campaign), whatever happened since.
    """
    campaign = get_object_or_404(Campaign, pk=pk)
    reason = request.GET.get("reason", "")
    if campaign.frozen_at is not None:
        rows = campaign.exclusions.select_related("contact").order_by("reason", "id")
        if reason:
            rows = rows.filter(reason=reason)
        counts = dict(campaign.exclusions.order_by().values_list("reason").annotate(n=Count("id")))
        page = Paginator(rows, 50).get_page(request.GET.get("page"))
        people = [(row.contact, row.reason) for row in page]
    else:
        contacts = excluded_contacts(campaign)
        counts = dict(contacts.order_by().values_list("reason").annotate(n=Count("id")))
        if reason:
            contacts = contacts.filter(reason=reason)
        page = Paginator(contacts.order_by("reason", "id"), 50).get_page(request.GET.get("page"))
        people = [(contact, contact.reason) for contact in page]
    audit(request.user, AuditAction.VIEW, campaign, detail=f"excluded, page {page.number}")
    return render(
        request,
        "campaigns/excluded.html",
        {
            "campaign": campaign,
            "page": page,
            "people": [(contact, explain(Reason(why))) for contact, why in people],
            "reasons": [
                (why, explain(Reason(why)), count)
                for why, count in sorted(counts.items(), key=lambda item: -item[1])
            ],
            "reason": reason,
            "frozen": campaign.frozen_at is not None,
        },
    )


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
    previewing = "preview" in request.POST
    if request.method == "POST" and not previewing and form.is_valid():
        saved = form.save()
        audit(request.user, AuditAction.CHANGE if pk else AuditAction.CREATE, saved)
        messages.success(request, _("The template is saved."))
        return redirect("campaigns:templates")
    response = render(
        request,
        "campaigns/template_form.html",
        {
            "form": form,
            "title": template.name if template else _("New template"),
            # The Preview button (pages without JavaScript) renders what is typed;
            # otherwise the preview shows the template as saved.
            "sections": [
                {"preview": preview, **form.language_fields(preview.language)}
                for preview in previews_for(form.data if form.is_bound else form.initial)
            ],
        },
    )
    # The preview frames (srcdoc) inherit this page's policy, and a mail's
    # styles are inline: allow inline styles here, and nothing else more.
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        "style-src 'self'", "style-src 'self' 'unsafe-inline'"
    )
    return response


@staff_required(change=True)
@require_POST
def template_preview(request):
    """The editor's live preview: one language of the form as typed, for a sample person."""
    try:
        preview = render_preview(request.POST, request.POST.get("language", ""))
    except PreviewError as error:
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse(preview.as_json())


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
