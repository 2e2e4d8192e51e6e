"""The public privacy statement: /privacy (the current one) and /privacy/<version>/."""

from __future__ import annotations

from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.views.decorators.http import require_GET

from akkoord.accountability.models import StatementVersion
from akkoord.accountability.statement import current_statement
from akkoord.organisation.models import Organisation


@require_GET
def privacy(request):
    current = current_statement()
    if current is None:
        external = Organisation.current().privacy_statement_url
        if external:
            return redirect(external)
        return render(
            request,
            "accountability/public_none.html",
            {"organisation": Organisation.current()},
            status=404,
        )
    url = current.number
    response = redirect("accountability:statement_version", url)
    if request.GET.get("lang") in ("nl", "en"):
        response["Location"] += f"?lang={request.GET['lang']}"
    return response


@require_GET
def statement_version(request, number: int):
    version = get_object_or_404(StatementVersion, number=number)
    language = request.GET.get("lang") or translation.get_language() or "nl"
    language = "nl" if language.startswith("nl") else "en"
    current = current_statement()
    with translation.override(language):
        return render(
            request,
            "accountability/public_statement.html",
            {
                "organisation": Organisation.current(),
                "statement": version.content[language],
                "version": version,
                "is_current": current is not None and current.pk == version.pk,
                "lang": language,
            },
        )
