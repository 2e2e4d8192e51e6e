"""Rendering staff-edited service mail texts with a small, explicit context.

Templates are compiled in the shared sandbox (``lib.sandbox``, the same as
campaign mails), and the context holds only strings and lists of strings, so a
template can show exactly the values named in ``CONTEXT_NAMES`` and nothing else.
"""

from __future__ import annotations

from django.utils.html import linebreaks, urlize

from akkoord.lib import sandbox
from akkoord.mail.outgoing import header_safe

CONTEXT_NAMES = (
    "first_name",
    "organisation_name",
    "organisation_email",
    "categories",
    "purposes",
    "centre_url",
    "centre_valid_days",
    "centre_valid_until",
    "privacy_statement_url",
)


def render_string(source: str, context: dict, *, autoescape: bool = False) -> str:
    return sandbox.render(sandbox.compile_template(source), context, autoescape=autoescape)


def render_notice(subject_source: str, body_source: str, context: dict) -> tuple[str, str, str]:
    """Subject (one safe header line), plain text and a simple HTML version."""
    subject = header_safe(render_string(subject_source, context), 200)
    text = render_string(body_source, context)
    html = linebreaks(urlize(text, autoescape=True), autoescape=False)
    return subject, text, html


SAMPLE_CONTEXT = {
    "first_name": "Anna",
    "organisation_name": "Voorbeeld B.V.",
    "organisation_email": "privacy@example.nl",
    "categories": ["Contact details", "Name and identity"],
    "purposes": ["Newsletter"],
    "centre_url": "https://akkoord.example/centre/sample/",
    "centre_valid_days": "21",
    "centre_valid_until": "2026-12-14",
    "privacy_statement_url": "https://example.nl/privacy",
}


def check_template(subject_source: str, body_source: str) -> None:
    """Raise TemplateError if the pair cannot be rendered."""
    render_notice(subject_source, body_source, SAMPLE_CONTEXT)
