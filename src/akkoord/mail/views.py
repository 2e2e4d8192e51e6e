"""The mail catcher page: every message the local catcher received, newest first.

The HTML part is shown in a sandboxed iframe (``sandbox`` without
``allow-scripts``; the page's CSP forbids scripts too) and as escaped source,
so a caught message can never run code in the staff app.

A caught mail that carries a person's signed link (customer centre,
confirmation, unsubscribe, re-permission) would let whoever opens it act as
that person; only administrators may open those. Everyone else gets a 403
that says why.
"""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.urls import Resolver404, resolve
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from akkoord.accounts.audit import audit, audit_list_view
from akkoord.accounts.decorators import forbidden, staff_required
from akkoord.accounts.models import AuditAction
from akkoord.mail.models import CaughtMessage

PERSONAL_LINK_REASON = _(
    "This mail contains a personal link (customer centre, confirmation, unsubscribe or "
    "re-permission) that would let whoever opens it act as the person it was sent to. "
    "Only administrators can open such mails."
)
_URL = re.compile(r"https?://[^\s\"'<>()]+", re.IGNORECASE)


def _parse(raw) -> EmailMessage:
    return email.message_from_bytes(bytes(raw), policy=email.policy.default)


def _part_text(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_type() != f"text/{subtype}":
        return ""
    try:
        return part.get_content()
    except (LookupError, UnicodeDecodeError):
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


def _attachments(message: EmailMessage) -> list[dict]:
    return [
        {
            "filename": part.get_filename() or "",
            "content_type": part.get_content_type(),
            "size": len(part.get_payload(decode=True) or b""),
        }
        for part in message.iter_attachments()
    ]


@require_GET
@staff_required
def catcher(request):
    messages = CaughtMessage.objects.defer("raw").order_by("-received_at", "-id")
    page = Paginator(messages, 50).get_page(request.GET.get("page"))
    # The list names recipients and subjects: viewing it is access to personal data.
    audit_list_view(
        request.user, "caughtmessage", [m.pk for m in page.object_list], page_number=page.number
    )
    return render(request, "mail/catcher.html", {"page": page})


def _has_personal_link(headers: list[tuple[str, str]], text: str, html: str) -> bool:
    """True when any link in the mail leads to a page of Akkoord opened by a person's token."""
    everything = "\n".join([*(value for _name, value in headers), text, html])
    for url in _URL.findall(everything):
        path = "/" + url.split("://", 1)[1].partition("/")[2].split("?")[0].split("#")[0]
        try:
            match = resolve(path)
        except Resolver404:
            continue
        if "token" in match.kwargs:
            return True
    return False


@require_GET
@staff_required
def message_detail(request, pk: int):
    caught = get_object_or_404(CaughtMessage, pk=pk)
    message = _parse(caught.raw)
    headers = [(name, str(value)) for name, value in message.items()]
    text, html = _part_text(message, "plain"), _part_text(message, "html")
    if not request.user.is_administrator and _has_personal_link(headers, text, html):
        return forbidden(request, PERSONAL_LINK_REASON)
    # A caught mail names its recipient: reading it is access to personal data.
    audit(request.user, AuditAction.VIEW, caught)
    context = {
        "caught": caught,
        "headers": headers,
        "text": text,
        "html": html,
        "attachments": _attachments(message),
    }
    return render(request, "mail/message.html", context)
