"""Public pages: the hosted form, the embed (with and without script), confirmation.

The submit endpoint accepts posts from other websites (the embed), so it is
exempt from CSRF: it acts on nobody's session, and ``sign_up``'s limits and
the bot checks are what protect it.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from akkoord.lib.ratelimit import client_ip
from akkoord.organisation.models import Organisation
from akkoord.signup import guards, presentation
from akkoord.signup.models import FormVersion, SignupForm
from akkoord.signup.services import (
    InvalidConfirmation,
    SignupInvalid,
    SignupRefused,
    confirm,
    open_pending_for_token,
    sign_up,
)


def _published(key: str) -> SignupForm:
    # Keys are short URL-safe strings; anything else (a NUL, say) is no form of ours.
    if len(key) > 20 or not key.replace("-", "").replace("_", "").isalnum():
        raise Http404
    form = get_object_or_404(SignupForm.objects.select_related("current_version"), public_key=key)
    if not form.is_published or form.current_version is None:
        raise Http404
    return form


def _cors(response):
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def form_context(
    version, *, prefix="ak-", values=None, errors=None, ticked=(), timed=True, action=""
):
    """What ``signup/_form.html`` needs; also used by the staff preview and snippet."""
    return {
        "version": version,
        "action": action or reverse("signup:form", args=[version.form.public_key]),
        "token": guards.render_token(version, timed=timed),
        "honeypot": guards.HONEYPOT,
        "prefix": prefix,
        "field_rows": presentation.field_rows(version, prefix=prefix, values=values, errors=errors),
        "purpose_rows": presentation.purpose_rows(version, prefix=prefix, ticked=ticked),
        "purpose_errors": (errors or {}).get("purposes", []),
        "general_errors": (errors or {}).get("__all__", []),
        "privacy_url": version.effective_privacy_url(),
    }


def _page(request, form, version, *, status=200, **kwargs):
    context = form_context(version, **kwargs)
    context.update(organisation=Organisation.current(), form=form, page_title=version.title)
    return render(request, "signup/form_page.html", context, status=status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def form_page(request, key: str):
    form = _published(key)
    if request.method == "GET":
        with translation.override(form.current_version.language):
            return _page(request, form, form.current_version)
    return _submit(request, form)


def _submit(request, form):
    wants_json = request.POST.get("_js") == "1"
    language = form.current_version.language
    with translation.override(language):
        try:
            number = guards.check(request.POST, form)
        except guards.GuardTripped as tripped:
            if tripped.code == "honeypot":
                return _answer(request, form, form.current_version, wants_json, ok=True)
            message = {
                "too_fast": _("That was very fast. Please check the form and send it again."),
                "stale": _("This form was open for a long time. Please send it again."),
            }.get(
                tripped.code,
                _("This form could not be read. Please reload the page and try again."),
            )
            return _answer(
                request,
                form,
                form.current_version,
                wants_json,
                ok=False,
                message=message,
                status=400,
            )
        version = FormVersion.objects.filter(
            form=form, number=number, published_at__isnull=False
        ).first()
        if version is None:
            version = form.current_version
            message = _("This form has changed. Please check it and send it again.")
            return _answer(
                request, form, version, wants_json, ok=False, message=message, status=400
            )
        data = presentation.data_from_post(version, request.POST)
        page_url = request.POST.get("page_url", "")
        if not page_url.startswith(("http://", "https://")):
            page_url = request.META.get("HTTP_REFERER", "")
        try:
            result = sign_up(
                version,
                data,
                ip=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
                page_url=page_url,
                channel="form",
            )
        except SignupInvalid as invalid:
            return _answer(
                request,
                form,
                version,
                wants_json,
                ok=False,
                message=invalid.message,
                errors=invalid.errors,
                status=400,
            )
        except SignupRefused as refused:
            response = _answer(
                request, form, version, wants_json, ok=False, message=refused.message, status=429
            )
            if refused.retry_after:
                response["Retry-After"] = str(refused.retry_after)
            return response
        if result.mail_failed:
            message = _(
                "We could not send the confirmation e-mail right now. Please try again later."
            )
            return _answer(
                request, form, version, wants_json, ok=False, message=message, status=503
            )
        return _answer(request, form, version, wants_json, ok=True)


def _answer(request, form, version, wants_json, *, ok, message="", errors=None, status=200):
    if ok:
        message = version.thank_you_text
    if wants_json:
        public_errors = {
            presentation.post_name(k) if k not in ("purposes", "__all__") else k: [
                str(m) for m in v
            ]
            for k, v in (errors or {}).items()
        }
        return _cors(
            JsonResponse(
                {"ok": ok, "message": str(message), "errors": public_errors}, status=status
            )
        )
    if ok:
        return render(
            request,
            "signup/thanks.html",
            {"organisation": Organisation.current(), "version": version, "message": message},
        )
    values = {k: v for k, v in request.POST.items() if k not in ("_t", guards.HONEYPOT, "purpose")}
    return _page(
        request,
        form,
        version,
        status=status,
        values=values,
        errors=errors or {"__all__": [message]},
        ticked=request.POST.getlist("purpose"),
    )


@require_GET
def embed_fragment(request, key: str):
    """The form as an HTML fragment for the script embed (read cross-origin)."""
    form = _published(key)
    version = form.current_version
    with translation.override(version.language):
        context = form_context(
            version,
            prefix=f"ak-{form.public_key}-",
            action=settings.AKKOORD_BASE_URL + reverse("signup:form", args=[form.public_key]),
        )
        html = render_to_string("signup/_form.html", context, request=request)
    return _cors(HttpResponse(html, content_type="text/html; charset=utf-8"))


@csrf_exempt
@require_http_methods(["GET", "POST"])
def confirm_page(request, token: str):
    """GET shows what is confirmed and a button; only the POST confirms (mail scanners)."""
    organisation = Organisation.current()
    try:
        pending = open_pending_for_token(token)
    except InvalidConfirmation:
        return render(
            request, "signup/confirm_invalid.html", {"organisation": organisation}, status=404
        )
    version = pending.form_version
    by_id = {p["id"]: p for p in version.purposes}
    names = [by_id[g["purpose"]]["name"] for g in pending.grants if g["purpose"] in by_id]
    with translation.override(version.language):
        if request.method == "POST":
            try:
                confirm(
                    token,
                    ip=client_ip(request),
                    user_agent=request.META.get("HTTP_USER_AGENT", ""),
                )
            except InvalidConfirmation:
                return render(
                    request,
                    "signup/confirm_invalid.html",
                    {"organisation": organisation},
                    status=404,
                )
            return render(
                request,
                "signup/confirmed.html",
                {"organisation": organisation, "version": version, "purposes": names},
            )
        return render(
            request,
            "signup/confirm.html",
            {"organisation": organisation, "version": version, "purposes": names},
        )
