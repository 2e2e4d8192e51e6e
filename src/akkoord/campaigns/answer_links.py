"""The Yes and No links of a re-permission mail: required there, refused elsewhere.

A re-permission mail without a Yes link is an ordinary promotional mail to
people whose consent is unproven, and silence unsubscribes them all at the
deadline. A marketing mail with the links would ask for consent, which is
itself unsolicited mail. So the links are checked wherever a template meets a
mail class: the campaign form, the template form, and before sending starts.

The check renders each part with marker URLs, so it sees what the recipient
will see: ``{{yes_url}}`` and ``{{ yes_url|safe }}`` count, a link inside
``{% if %}`` that is false for some recipients does not.
"""

from __future__ import annotations

from html.parser import HTMLParser

from django.template import Context
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from akkoord.campaigns.rendering import CONTEXT_NAMES
from akkoord.consent.rules import MailClass
from akkoord.lib.sandbox import TemplateError, compile_template

_MARKERS = {
    "yes_url": "https://answer.invalid/yes-c6f1",
    "no_url": "https://answer.invalid/no-9b2e",
}
# A recipient with every field filled and one with every field empty: a link
# must show for both.
_FULL = {name: f"x-{name}" for name in CONTEXT_NAMES} | _MARKERS
_EMPTY = {name: "" for name in CONTEXT_NAMES} | _MARKERS

LANGUAGE_NAMES = {"nl": gettext_lazy("Dutch"), "en": gettext_lazy("English")}


class _Hrefs(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs: set[str] = set()

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.update(value.strip() for name, value in attrs if name == "href" and value)


def _links_in_text(source: str) -> set[str]:
    """The answer links a plain-text or subject part shows to every recipient."""
    template = compile_template(source)
    found = set(_MARKERS)
    for context in (_FULL, _EMPTY):
        rendered = template.render(Context(context, autoescape=False))
        found &= {name for name, marker in _MARKERS.items() if marker in rendered}
    return found


def _links_in_html(source: str) -> set[str]:
    """The answer links an HTML part shows as clickable links to every recipient."""
    template = compile_template(source)
    found = set(_MARKERS)
    for context in (_FULL, _EMPTY):
        parser = _Hrefs()
        parser.feed(template.render(Context(context, autoescape=True)))
        parser.close()
        found &= {name for name, marker in _MARKERS.items() if marker in parser.hrefs}
    return found


def _mentions(source: str) -> set[str]:
    """The answer links a part shows to any recipient."""
    template = compile_template(source)
    found: set[str] = set()
    for context in (_FULL, _EMPTY):
        rendered = template.render(Context(context, autoescape=False))
        found |= {name for name, marker in _MARKERS.items() if marker in rendered}
    return found


def _missing_message(link: str, part: str, language: str) -> str:
    where = {
        "text": _("the plain-text part in %(language)s"),
        "html": _("the HTML part in %(language)s"),
    }[part] % {"language": LANGUAGE_NAMES[language]}
    if link == "yes_url":
        return _("The Yes link ({{ yes_url }}) is missing from %(where)s.") % {"where": where}
    return _("The No link ({{ no_url }}) is missing from %(where)s.") % {"where": where}


def _missing_from_markdown_message(link: str, language: str) -> str:
    values = {"language": LANGUAGE_NAMES[language]}
    if link == "yes_url":
        text = _(
            "The Yes link ({{ yes_url }}) is missing from the mail text in %(language)s. "
            "Write it as a link: [Yes]({{ yes_url }})."
        )
    else:
        text = _(
            "The No link ({{ no_url }}) is missing from the mail text in %(language)s. "
            "Write it as a link: [No]({{ no_url }})."
        )
    return text % values


def _refused_message(link: str, language: str) -> str:
    values = {"language": LANGUAGE_NAMES[language]}
    if link == "yes_url":
        text = _(
            "The mail in %(language)s contains the Yes link ({{ yes_url }}). Only a "
            "re-permission mail may ask Yes or No; remove it or choose the re-permission class."
        )
    else:
        text = _(
            "The mail in %(language)s contains the No link ({{ no_url }}). Only a "
            "re-permission mail may ask Yes or No; remove it or choose the re-permission class."
        )
    return text % values


def parts_problems(
    parts: dict[str, tuple[str, str, str]],
    mail_class: str,
    markdown_languages: frozenset[str] | set[str] = frozenset(),
) -> list[str]:
    """What is wrong with the answer links of a mail, per language.

    ``parts`` maps each language the mail will be sent in to its
    (subject, html, text). A re-permission mail needs both links in the text
    part and, when there is one, as links in the HTML part of every language;
    any other mail class may not contain them anywhere. Parts that do not
    compile are left to the template check, which names their error.

    The parts of ``markdown_languages`` were made from Markdown
    (``markdown_mail``): a link missing from either is missing from the one
    text the marketer wrote, and is named once, as such.
    """
    problems: list[str] = []
    for language, (subject, html, text) in parts.items():
        try:
            if mail_class == MailClass.REPERMISSION and language in markdown_languages:
                problems += _missing_from_markdown(language, text, html)
            elif mail_class == MailClass.REPERMISSION:
                problems += _missing(language, text, html)
            else:
                used = set().union(*(_mentions(part) for part in (subject, html, text)))
                problems += [_refused_message(link, language) for link in _MARKERS if link in used]
        except TemplateError:
            continue
    return problems


def _missing(language: str, text: str, html: str) -> list[str]:
    problems = []
    in_text = _links_in_text(text)
    problems += [
        _missing_message(link, "text", language) for link in _MARKERS if link not in in_text
    ]
    if html.strip():
        in_html = _links_in_html(html)
        problems += [
            _missing_message(link, "html", language) for link in _MARKERS if link not in in_html
        ]
    return problems


def _missing_from_markdown(language: str, text: str, html: str) -> list[str]:
    # A [label]({{ yes_url }}) link is in both parts; a bare {{ yes_url }} only
    # in the text, which leaves the HTML part without a link to click.
    found = _links_in_text(text) & _links_in_html(html)
    return [
        _missing_from_markdown_message(link, language) for link in _MARKERS if link not in found
    ]


def template_parts(template) -> dict[str, tuple[str, str, str]]:
    """The parts of a saved template in every language it will be sent in."""
    return {language: template.part(language) for language in template.languages()}


def campaign_problems(template, mail_class: str) -> list[str]:
    """Answer-link problems of sending ``template`` as a mail of ``mail_class``."""
    return parts_problems(template_parts(template), mail_class, markdown_languages(template))


def markdown_languages(template) -> set[str]:
    """The languages of a saved template that are written in Markdown."""
    return {lang for lang in template.languages() if getattr(template, f"body_{lang}").strip()}
