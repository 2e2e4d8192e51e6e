"""Mail templates written in Markdown: one readable source for the HTML and the text part.

A marketer writes the body in Markdown; saving the template produces its HTML
part (the Markdown rendered into a responsive, table-based mail layout with the
CSS inlined, because many mail clients ignore style sheets) and its plain-text
part (the Markdown itself, with links written out as "label: url").

Why Markdown and not MJML: the Markdown source is readable as it is, so it
doubles as the plain-text part; it needs no Node toolchain (MJML's maintained
Python bindings wrap a Rust or Node engine); and links and placeholders survive
it unchanged. Raw HTML in the Markdown is switched off, so a template written
this way cannot carry scripts or forms: anything that looks like a tag is shown
as text.

Template placeholders (``{{ first_name }}``, ``{% if … %}``) are swapped for
plain letter-and-digit markers before Markdown sees them and put back after:
Markdown would otherwise percent-encode the braces in a link target
(``[Ja]({{ yes_url }})``) or read the space inside them as the end of the link.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import css_inline
from django.template.loader import render_to_string
from markdown_it import MarkdownIt

# Django template syntax: variables, tags and comments, each on one line.
_PLACEHOLDER = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}")
# Inline links and images: [label](target "title") or ![alt](target).
_INLINE_LINK = re.compile(
    r"!?\[(?P<label>[^\]\n]*)\]\(\s*<?(?P<url>[^()\s<>]+)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)"
)
# Autolinks: <https://example.nl>.
_AUTOLINK = re.compile(r"<(?P<url>[a-zA-Z][a-zA-Z0-9+.-]{1,31}:[^<>\s]*)>")

# CommonMark without raw HTML: "<script>" in the source arrives as text.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("strikethrough")
# The layout's style sheet goes into style attributes; the media query for
# narrow screens stays in a <style> element for the clients that read it.
_INLINER = css_inline.CSSInliner(
    keep_style_tags=False, keep_at_rules=True, load_remote_stylesheets=False
)
LAYOUT_TEMPLATE = "campaigns/mail/markdown_layout.html"


@dataclass(frozen=True)
class MailParts:
    html: str
    text: str


class _Placeholders:
    """Swaps template placeholders for markers that Markdown leaves alone, and back."""

    def __init__(self, source: str):
        # A fresh random prefix cannot occur in the source by accident.
        self.prefix = "akph" + secrets.token_hex(6)
        self.originals: list[str] = []
        self.protected = _PLACEHOLDER.sub(self._marker, source)

    def _marker(self, match: re.Match) -> str:
        self.originals.append(match.group(0))
        return f"{self.prefix}x{len(self.originals) - 1}x"

    def restore(self, rendered: str) -> str:
        return re.sub(rf"{self.prefix}x(\d+)x", lambda m: self.originals[int(m.group(1))], rendered)


def markdown_to_parts(source: str, language: str) -> MailParts:
    """The HTML and plain-text parts of a mail written in Markdown."""
    placeholders = _Placeholders(source)
    body = _MARKDOWN.render(placeholders.protected)
    html = render_to_string(LAYOUT_TEMPLATE, {"body": body, "language": language})
    html = _INLINER.inline(html)
    return MailParts(
        html=placeholders.restore(html),
        text=placeholders.restore(_plain_text(placeholders.protected)),
    )


def _plain_text(markdown: str) -> str:
    """The Markdown as the text part: readable as it is, with links written out."""
    text = _INLINE_LINK.sub(_written_out, markdown)
    text = _AUTOLINK.sub(lambda match: match.group("url"), text)
    return text.strip() + "\n"


def _written_out(match: re.Match) -> str:
    label, url = match.group("label").strip(), match.group("url")
    if not label or label == url:
        return url
    return f"{label}: {url}"
