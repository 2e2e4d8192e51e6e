"""Turning a campaign template into one message per recipient.

Templates are compiled once per campaign and language (listmonk's model) in
the shared sandbox (``lib.sandbox``: no loaders, no tag libraries beyond the
built-ins) and rendered with a context of plain strings only, so a template
cannot reach settings, secrets or the database. The footer (sender identity, privacy
statement, unsubscribe link) is added here, outside the template, so it cannot
be removed from marketing mail.
"""

from __future__ import annotations

import binascii
import time
import uuid
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate

import css_inline
from django.conf import settings
from django.template import Context
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from akkoord.contacts.emails import ascii_email
from akkoord.lib import tokens
from akkoord.lib.sandbox import compile_template
from akkoord.mail.outgoing import header_safe

# What a template may use. Everything is a plain string.
CONTEXT_NAMES = (
    "first_name",
    "last_name",
    "full_name",
    "organisation_name",
    "email",
    "unsubscribe_url",
    "privacy_url",
    "sender_name",
    "yes_url",
    "no_url",
)

_INLINER = css_inline.CSSInliner(
    keep_style_tags=True, keep_at_rules=True, load_remote_stylesheets=False
)


# Sample data for previews and test sends: what a template shows for a made-up person.
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


def privacy_url() -> str:
    return settings.AKKOORD_BASE_URL + "/privacy"


# Built without reverse(): workers start fast and never load the whole URL map.
# tests/test_public.py checks that these agree with urls.py.
def unsubscribe_url(token: str) -> str:
    return f"{settings.AKKOORD_BASE_URL}/u/{token}"


def repermission_urls(token: str) -> tuple[str, str]:
    base = f"{settings.AKKOORD_BASE_URL}/r/{token}"
    return base + "?answer=yes", base + "?answer=no"


@dataclass
class Recipient:
    """What rendering needs of one contact (no model instance: no ORM access)."""

    email: str
    first_name: str
    last_name: str
    organisation_name: str
    ledger_key: uuid.UUID


def recipient_context(recipient: Recipient, token_links: dict[str, str]) -> dict[str, str]:
    full_name = f"{recipient.first_name} {recipient.last_name}".strip()
    return {
        "first_name": recipient.first_name,
        "last_name": recipient.last_name,
        "full_name": full_name,
        "organisation_name": recipient.organisation_name,
        "email": recipient.email,
        "privacy_url": privacy_url(),
        **token_links,
    }


class CompiledMail:
    """One language of one campaign, compiled once and rendered per recipient."""

    def __init__(self, *, subject, html, text, language, organisation, from_name, footer=True):
        self.language = language
        self.subject_t = compile_template(subject)
        self.html_t = compile_template(html) if html.strip() else None
        self.text_t = compile_template(text)
        self.footer = footer
        with translation.override(language):
            self.footer_text = _footer_text(organisation, from_name)
            self.footer_html = _footer_html(organisation, from_name)
            self.unsubscribe_label = _("Unsubscribe")

    def render(self, context: dict[str, str]) -> tuple[str, str, str | None]:
        ctx = Context(context, autoescape=False)
        subject = header_safe(self.subject_t.render(ctx))
        text = self.text_t.render(ctx).rstrip() + "\n"
        html = self.html_t.render(Context(context, autoescape=True)) if self.html_t else None
        if html is not None:
            # Parsed and serialised first: an unclosed comment or element in the
            # template is closed here, so it cannot swallow or hide the footer.
            html = _INLINER.inline(html)
        if self.footer:
            unsubscribe = context.get("unsubscribe_url", "")
            text += "\n-- \n" + self.footer_text.replace("{unsubscribe}", unsubscribe)
            if html is not None:
                footer = self.footer_html.replace("{unsubscribe}", escape(unsubscribe))
                html = _append_to_body(html, footer)
        return subject, text, html


def _footer_text(organisation, from_name) -> str:
    identity = ", ".join(
        part for part in (organisation.name, " ".join(organisation.address.split())) if part
    )
    return (
        _("You receive this mail from %(sender)s (%(identity)s).")
        % {"sender": from_name, "identity": identity}
        + "\n"
        + _("Privacy statement: %(url)s") % {"url": privacy_url()}
        + "\n"
        + _("Unsubscribe with one click: %(url)s") % {"url": "{unsubscribe}"}
        + "\n"
    )


# Inline !important wins over any rule in the template's style sheet.
_SHOWN = "display:block !important;visibility:visible !important"


def _footer_html(organisation, from_name) -> str:
    identity = ", ".join(
        part for part in (organisation.name, " ".join(organisation.address.split())) if part
    )
    sender = _("You receive this mail from %(sender)s (%(identity)s).") % {
        "sender": escape(from_name),
        "identity": escape(identity),
    }
    privacy_label = escape(_("Privacy statement"))
    unsubscribe_label = escape(_("Unsubscribe"))
    privacy_link = escape(privacy_url())
    return (
        '<div class="akkoord-footer" style="margin-top:24px;font-size:12px;color:#555;'
        f'{_SHOWN}">'
        f'<p style="{_SHOWN}">{sender}</p>'
        f'<p style="{_SHOWN}"><a href="{privacy_link}">{privacy_label}</a> · '
        f'<a href="{{unsubscribe}}">{unsubscribe_label}</a></p></div>'
    )


def _append_to_body(html: str, footer: str) -> str:
    index = html.lower().rfind("</body>")
    if index == -1:
        return html + footer
    return html[:index] + footer + html[index:]


def _qp(text: str) -> bytes:
    encoded = binascii.b2a_qp(text.encode("utf-8"))
    return encoded.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def needs_smtputf8(address: str) -> bool:
    """A non-ASCII local part (``ëve@…``) can only travel with SMTPUTF8 (RFC 6531):
    unlike a domain it has no ASCII form."""
    return not address.rpartition("@")[0].isascii()


def envelope_address(address: str) -> str:
    """The address as it goes into SMTP and the To header: domain in IDNA form.

    Raises UnicodeError (idna.IDNAError) for a domain that has no IDNA form.
    """
    # IDNA only when needed: the idna package costs a quarter of rendering.
    return address if address.isascii() else ascii_email(address)


def _header(value: str) -> str:
    if value.isascii():
        return value
    return Header(value, "utf-8").encode()


def build_message(
    *,
    from_name: str,
    from_address: str,
    to: str,
    subject: str,
    text: str,
    html: str | None,
    domain: str,
    list_unsubscribe: str | None,
    list_id: str | None = None,
) -> tuple[bytes, str]:
    """A MIME message with CRLF line endings, exactly one recipient; and its Message-ID.

    Every header is ASCII, except the To header of an address with a non-ASCII
    local part: that one is UTF-8 as RFC 6532 says, and the message may only be
    sent with SMTPUTF8 (``needs_smtputf8``). Raises UnicodeError for an
    address whose domain has no IDNA form.
    """
    message_id = f"<{uuid.uuid4().hex}@{domain}>"
    boundary = "=_ak_" + uuid.uuid4().hex
    sender = formataddr((header_safe(from_name, 100), from_address))
    if not sender.isascii():
        sender = formataddr((str(Header(header_safe(from_name, 100), "utf-8")), from_address))
    lines = [
        f"From: {sender}",
        f"To: <{envelope_address(to)}>",
        f"Subject: {_header(subject)}",
        f"Date: {formatdate(time.time(), localtime=False)}",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
    ]
    if list_id:
        lines.append(f"List-Id: {list_id}")
    if list_unsubscribe:
        lines.append(f"List-Unsubscribe: <{list_unsubscribe}>")
        lines.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    text_part = (
        b'Content-Type: text/plain; charset="utf-8"\r\n'
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + _qp(text)
    )
    if html is None:
        head = _encode_head(lines)
        return head + b"\r\n" + text_part + b"\r\n", message_id
    lines.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
    mark = f"--{boundary}".encode("ascii")
    body = b"".join(
        [
            mark + b"\r\n" + text_part + b"\r\n",
            mark + b'\r\nContent-Type: text/html; charset="utf-8"\r\n'
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + _qp(html) + b"\r\n",
            mark + b"--\r\n",
        ]
    )
    head = _encode_head(lines)
    return head + b"\r\n\r\n" + body, message_id


def _encode_head(lines: list[str]) -> bytes:
    # Only the To header can hold non-ASCII (see build_message); UTF-8 is
    # what RFC 6532 prescribes for it and the same bytes as ASCII otherwise.
    return "\r\n".join(lines).encode("utf-8")


def unsubscribe_token(contact_like, campaign) -> str:
    return tokens.make_token(tokens.UNSUBSCRIBE, contact_like, p=campaign.purpose_id, c=campaign.pk)


def repermission_token(contact_like, campaign) -> str:
    return tokens.make_token(
        tokens.REPERMISSION, contact_like, p=campaign.purpose_id, c=campaign.pk
    )
