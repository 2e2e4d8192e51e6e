"""Staff pages of the customer centre: erasure requests and the centre's settings."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from akkoord.accounts.audit import audit
from akkoord.accounts.decorators import staff_required
from akkoord.accounts.models import AuditAction
from akkoord.centre import requests
from akkoord.centre.handled import KIND_LABELS, handled_requests
from akkoord.centre.models import CentreSettings, ErasureRequest, RequestStatus


def contact_link(contact) -> str:
    if contact is None:
        return ""
    try:
        return reverse("contacts:detail", args=[contact.pk])
    except NoReverseMatch:
        return ""


@staff_required
def request_list(request):
    """Open erasure requests by deadline (art. 12(3)), then the recently handled."""
    open_requests = list(
        ErasureRequest.objects.filter(status__in=[RequestStatus.OPEN, RequestStatus.EXTENDED])
        .select_related("contact")
        .order_by("deadline", "id")
    )
    for item in open_requests:
        item.link = contact_link(item.contact)
    handled = ErasureRequest.objects.filter(
        status__in=[RequestStatus.DONE, RequestStatus.DECLINED]
    ).order_by("-handled_at", "-id")[:50]
    audit(request.user, AuditAction.VIEW, object_type="erasurerequest", detail="list")
    carried_out, carried_out_counts = handled_requests()
    return render(
        request,
        "centre/requests.html",
        {
            "open_requests": open_requests,
            "handled": handled,
            "carried_out": carried_out,
            "carried_out_counts": [
                (label, carried_out_counts[kind]) for kind, label in KIND_LABELS.items()
            ],
            "settings": CentreSettings.current(),
            "today": timezone.localdate(),
        },
    )


@staff_required
def request_detail(request, pk):
    item = get_object_or_404(ErasureRequest.objects.select_related("contact", "handled_by"), pk=pk)
    audit(request.user, AuditAction.VIEW, item)
    return render(request, "centre/request_detail.html", _detail_context(item))


def _detail_context(item, **extra) -> dict:
    return {
        "item": item,
        "link": contact_link(item.contact),
        "today": timezone.localdate(),
        **extra,
    }


@require_POST
@staff_required(change=True)
def request_action(request, pk):
    item = get_object_or_404(ErasureRequest, pk=pk)
    action = request.POST.get("action", "")
    errors: dict = {}
    try:
        if action == "carry_out":
            if request.POST.get("confirm") != "yes":
                raise ValidationError({"confirm": _("Tick the box to confirm the erasure.")})
            audit(request.user, AuditAction.DELETE, item, detail="erasure carried out")
            if requests.carry_out(item, request.user):
                messages.success(request, _("The person's data was erased and they were told."))
            else:
                messages.warning(
                    request,
                    _(
                        "The person's data was erased, but the confirmation mail could not be "
                        "sent. Check the mail settings."
                    ),
                )
        elif action == "extend":
            requests.extend(item, request.user, request.POST.get("notice", ""))
            audit(request.user, AuditAction.CHANGE, item, detail="deadline extended")
            messages.success(request, _("The deadline was extended and the person was told why."))
        elif action == "decline":
            requests.decline(item, request.user, request.POST.get("reason", ""))
            audit(request.user, AuditAction.CHANGE, item, detail="declined")
            messages.success(request, _("The request was declined and the person was told why."))
        else:
            raise ValidationError(_("Unknown action."))
    except ValidationError as error:
        errors = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    except Exception:  # noqa: BLE001 - e.g. the mail server refused; nothing was saved
        errors = {"__all__": [_("The mail to the person could not be sent; nothing was changed.")]}
    if errors:
        item.refresh_from_db()
        return render(
            request,
            "centre/request_detail.html",
            _detail_context(item, errors=errors, form=request.POST),
            status=400,
        )
    return redirect("centre:request", pk=item.pk)


@require_http_methods(["GET", "POST"])
@staff_required(admin=True)
def centre_settings(request):
    current = CentreSettings.current()
    if request.method == "POST":
        with transaction.atomic():
            current.erasure_needs_review = request.POST.get("erasure_needs_review") == "on"
            current.save()
            audit(
                request.user,
                AuditAction.SETTINGS,
                current,
                detail=f"erasure_needs_review={current.erasure_needs_review}",
            )
        messages.success(request, _("Settings saved."))
        return redirect("centre:settings")
    return render(request, "centre/settings.html", {"settings": current})
