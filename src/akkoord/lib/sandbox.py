"""The one sandbox for templates staff write (campaign mails, service mail texts).

No template loaders, no tag libraries beyond Django's built-in tags and
filters, and no tag that reaches outside the template (load, include, extends,
debug, ssi, url, csrf_token). Callers render with a context of plain strings
(``plain_context``), never ORM objects, so a template shows exactly the values
it was given and cannot reach settings, secrets or the database. A name the
context lacks renders as nothing.
"""

from __future__ import annotations

import re

from django.template import Context, Engine, TemplateDoesNotExist, TemplateSyntaxError
from django.template.base import Template
from django.utils.translation import gettext as _

_ENGINE = Engine(
    dirs=[],
    app_dirs=False,
    loaders=[("django.template.loaders.locmem.Loader", {})],
    libraries={},
    builtins=["django.template.defaulttags", "django.template.defaultfilters"],
    autoescape=True,
    debug=False,
    string_if_invalid="",
)
_FORBIDDEN_TAGS = re.compile(r"{%\s*(load|include|extends|debug|ssi|url|csrf_token)\b")


class TemplateError(ValueError):
    """A template that cannot be used; the message says what to fix."""


def compile_template(source: str) -> Template:
    """Compile a staff-written template in the sandbox, or raise TemplateError."""
    forbidden = _FORBIDDEN_TAGS.search(source)
    if forbidden:
        raise TemplateError(
            _("Templates may not use the tag %(tag)s.") % {"tag": forbidden.group(1)}
        )
    try:
        return _ENGINE.from_string(source)
    except (TemplateSyntaxError, TemplateDoesNotExist) as error:
        raise TemplateError(_("Template error: %(error)s") % {"error": error}) from None


def plain_context(context: dict) -> dict:
    """The context as plain strings (and lists of strings): nothing a template can call."""
    plain: dict = {}
    for key, value in context.items():
        if isinstance(value, list | tuple):
            plain[key] = [str(item) for item in value]
        else:
            plain[key] = "" if value is None else str(value)
    return plain


def render(template: Template, context: dict, *, autoescape: bool) -> str:
    """Render a compiled template with a plain-string context."""
    return template.render(Context(plain_context(context), autoescape=autoescape))
