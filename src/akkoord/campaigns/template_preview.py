"""The template editor's preview: a language of a template as a sample person receives it.

Used by the live preview endpoint (called while typing) and by the editor's
Preview button (without JavaScript), so both show the same thing. Nothing is
saved: the preview is rendered from the form's fields as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import escape
from django.utils.translation import gettext as _

from akkoord.campaigns.answer_links import LANGUAGE_NAMES
from akkoord.campaigns.markdown_mail import markdown_to_parts
from akkoord.campaigns.rendering import CompiledMail
from akkoord.lib.sandbox import TemplateError
from akkoord.organisation.models import Organisation

LANGUAGES = ("nl", "en")

# The sample person of the editor. Links go nowhere: the preview must not
# unsubscribe or answer for anyone.
SAMPLE_PERSON = {
    "first_name": "Anna",
    "last_name": "de Vries",
    "full_name": "Anna de Vries",
    "organisation_name": "Voorbeeld BV",
    "email": "anna.devries@example.nl",
    "unsubscribe_url": "#unsubscribe",
    "privacy_url": "#privacy",
    "yes_url": "#yes",
    "no_url": "#no",
}


class PreviewError(ValueError):
    """Input the preview cannot render; the message says what to fix."""


@dataclass(frozen=True)
class Preview:
    language: str
    subject: str = ""
    html: str = ""
    text: str = ""
    error: str = ""

    @property
    def language_name(self) -> str:
        return LANGUAGE_NAMES[self.language]

    def as_json(self) -> dict[str, str]:
        return {"subject": self.subject, "html": self.html, "text": self.text}


def source_parts(data, language: str) -> tuple[str, str, str]:
    """Subject, HTML and text of ``language`` as the form would save them."""
    subject = data.get(f"subject_{language}") or ""
    body = data.get(f"body_{language}") or ""
    if body.strip():
        parts = markdown_to_parts(body, language)
        return subject, parts.html, parts.text
    return subject, data.get(f"html_{language}") or "", data.get(f"text_{language}") or ""


def render_preview(data, language: str) -> Preview:
    """``language`` of the template in ``data`` (form fields), rendered for the sample person.

    Raises PreviewError for an unknown language or a template that does not compile.
    """
    if language not in LANGUAGES:
        raise PreviewError(_("Choose the language to preview: nl or en."))
    subject, html, text = source_parts(data, language)
    organisation = Organisation.current()
    try:
        compiled = CompiledMail(
            subject=subject,
            html=html,
            text=text,
            language=language,
            organisation=organisation,
            from_name=organisation.name,
        )
        subject, text, rendered_html = compiled.render(SAMPLE_PERSON)
    except TemplateError as error:
        raise PreviewError(str(error)) from None
    if rendered_html is None:
        # A mail without an HTML part: shown as the text it is, never as markup.
        rendered_html = (
            '<pre style="white-space:pre-wrap;font-family:monospace">' + escape(text) + "</pre>"
        )
    return Preview(language=language, subject=subject, html=rendered_html, text=text)


def previews_for(data) -> list[Preview]:
    """One preview per language for the editor page; an error is shown in its place."""
    previews = []
    for language in LANGUAGES:
        try:
            previews.append(render_preview(data, language))
        except PreviewError as error:
            previews.append(Preview(language=language, error=str(error)))
    return previews
