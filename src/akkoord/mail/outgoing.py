"""One way to send a service mail (a mail the person needs, not marketing): one recipient, archived.

Service mails (confirmations, the privacy confirmation, answers to requests,
breach notifications) go through Django's e-mail backend. Marketing mail has its
own pipeline (``akkoord.campaigns``). A service mail never carries a sales pitch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid
from django.template.loader import render_to_string
from django.utils import timezone, translation

from akkoord.contacts.emails import ascii_email, normalise_email
from akkoord.contacts.models import Activity, ActivityKind, Contact

_LINE_BREAKS = re.compile(r"[\r\n\x00]+")


def header_safe(value: str, max_length: int = 250) -> str:
    """A value that cannot start a new header line: breaks folded into spaces."""
    return _LINE_BREAKS.sub(" ", str(value)).strip()[:max_length]


@dataclass
class SentMail:
    to: str
    subject: str
    message_id: str


def service_sender() -> str:
    """The From of service mail: the organisation's name and its configured address.

    A person recognises the organisation they dealt with, not the software;
    without an address of its own the installation's AKKOORD_FROM_EMAIL is used.
    """
    from akkoord.organisation.models import Organisation

    organisation = Organisation.current()
    address = organisation.service_mail_from or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return formataddr((header_safe(organisation.name, 100), address))


def render_mail(template_base: str, context: dict, language: str) -> tuple[str, str, str]:
    """Render ``<base>_subject.txt``, ``<base>.txt`` and ``<base>.html`` in ``language``."""
    with translation.override(language):
        subject = render_to_string(f"{template_base}_subject.txt", context)
        text = render_to_string(f"{template_base}.txt", context)
        html = render_to_string(f"{template_base}.html", context)
    return header_safe(subject), text, html


def send_service_mail(
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    contact: Contact | None = None,
    template: str = "",
    language: str = "nl",
    actor: str = "system",
    purpose_of_mail: str = "service",
    headers: dict | None = None,
) -> SentMail:
    """Send one mail to one address and archive it on the contact's timeline.

    The recipient is validated; the subject and header values are made safe
    against header injection. Raises on delivery failure (callers decide).
    """
    address = normalise_email(to)
    safe_subject = header_safe(subject)
    safe_headers = {header_safe(k, 80): header_safe(v, 1000) for k, v in (headers or {}).items()}
    sender = service_sender()
    message_id = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    safe_headers["Message-ID"] = message_id
    message = EmailMultiAlternatives(
        subject=safe_subject,
        body=text,
        from_email=sender,
        to=[ascii_email(address)],
        headers=safe_headers,
    )
    if html:
        message.attach_alternative(html, "text/html")
    message.send(fail_silently=False)
    if contact is not None:
        Activity.objects.create(
            contact=contact,
            kind=ActivityKind.MAIL,
            occurred_at=timezone.now(),
            actor=actor[:200],
            summary=safe_subject[:300],
            data={
                "class": purpose_of_mail,
                "to": address,
                "subject": safe_subject,
                "text": text,
                "html": html or "",
                "template": template,
                "language": language,
                "sent_by": actor,
            },
        )
    return SentMail(to=address, subject=safe_subject, message_id=str(message_id))
