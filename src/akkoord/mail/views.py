"""The mail catcher page: every message the local catcher received, newest first.

The HTML part is shown in a sandboxed iframe (``sandbox`` without
``allow-scripts``; the page's CSP forbids scripts too) and as escaped source,
so a caught message can never run code in the staff app.
"""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from akkoord.accounts.audit import audit
from akkoord.accounts.decorators import staff_required
from akkoord.accounts.models import AuditAction
from akkoord.mail.models import CaughtMessage


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
    return render(request, "mail/catcher.html", {"page": page})


@require_GET
@staff_required
def message_detail(request, pk: int):
    caught = get_object_or_404(CaughtMessage, pk=pk)
    # A caught mail names its recipient: reading it is access to personal data.
    audit(request.user, AuditAction.VIEW, caught)
    message = _parse(caught.raw)
    headers = [(name, str(value)) for name, value in message.items()]
    context = {
        "caught": caught,
        "headers": headers,
        "text": _part_text(message, "plain"),
        "html": _part_text(message, "html"),
        "attachments": _attachments(message),
    }
    return render(request, "mail/message.html", context)
