"""Rendering staff-edited mail templates with a small, explicit context.

The engine has no loaders and no tag libraries to load, and the context holds
only strings and lists of strings (never ORM objects), so a template can show
exactly the values named in ``CONTEXT_NAMES`` and nothing else.
"""

from __future__ import annotations

from django.template import Context, Engine, TemplateDoesNotExist, TemplateSyntaxError
from django.utils.html import linebreaks, urlize

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

_engine = Engine(dirs=[], app_dirs=False, loaders=[], libraries={}, debug=False)


class TemplateProblem(ValueError):
    """A template that does not compile or render; the message says where."""


def _plain(context: dict) -> dict:
    safe: dict = {}
    for key, value in context.items():
        if isinstance(value, list | tuple):
            safe[key] = [str(item) for item in value]
        else:
            safe[key] = "" if value is None else str(value)
    return safe


def render_string(source: str, context: dict, *, autoescape: bool = False) -> str:
    try:
        template = _engine.from_string(source)
        return template.render(Context(_plain(context), autoescape=autoescape))
    except (TemplateSyntaxError, TemplateDoesNotExist) as error:
        raise TemplateProblem(str(error) or error.__class__.__name__) from None


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
    """Raise TemplateProblem if the pair cannot be rendered."""
    render_notice(subject_source, body_source, SAMPLE_CONTEXT)
