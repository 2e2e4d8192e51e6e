"""Staff pages for sign-up forms: list, build (each save is a new version), preview, publish."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.db.models import Max
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from akkoord.accounts.audit import audit
from akkoord.accounts.models import AuditAction
from akkoord.notices.access import staff_required
from akkoord.signup.forms import BuilderForm
from akkoord.signup.models import FormVersion, PendingSignup, SignupForm
from akkoord.signup.public_views import form_context


@staff_required
def form_list(request):
    forms = SignupForm.objects.select_related("current_version")
    return render(
        request,
        "signup/staff/list.html",
        {"forms": forms, "may_change": request.user.can_change_data},
    )


def _initial(form: SignupForm | None) -> dict:
    version = form.current_version if form else None
    if version is None:
        return {
            "language": "nl",
            "expiry_days": 30,
            "thank_you_text": _("Thank you! Check your inbox and confirm your sign-up."),
            "confirmed_text": _("Thank you, your sign-up is confirmed."),
        }
    return {
        "name": form.name,
        "language": version.language,
        "title": version.title,
        "intro": version.intro,
        "fields": [s["key"] for s in version.fields],
        "required_fields": [s["key"] for s in version.fields if s.get("required")],
        "purposes": [p["id"] for p in version.purposes],
        "privacy_statement_url": version.privacy_statement_url,
        "thank_you_text": version.thank_you_text,
        "confirmed_text": version.confirmed_text,
        "expiry_days": version.expiry_days,
    }


def save_version(form: SignupForm, data: dict, user) -> FormVersion:
    """Freeze ``data`` (BuilderForm.cleaned_data) as the form's next version."""
    language = data["language"]
    with transaction.atomic():
        form = SignupForm.objects.select_for_update().get(pk=form.pk)
        form.name = data["name"]
        number = (form.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        required = set(data.get("required_fields") or [])
        version = FormVersion.objects.create(
            form=form,
            number=number,
            language=language,
            title=data["title"],
            intro=data.get("intro", ""),
            fields=[{"key": key, "required": key in required} for key in data.get("fields") or []],
            purposes=[
                {
                    "id": p.pk,
                    "key": p.key,
                    "name": p.name(language),
                    "text": p.consent_text(language),
                }
                for p in data["purposes"]
            ],
            privacy_statement_url=data.get("privacy_statement_url", ""),
            thank_you_text=data["thank_you_text"],
            confirmed_text=data["confirmed_text"],
            expiry_days=data["expiry_days"],
            created_by=user,
            published_at=timezone.now() if form.is_published else None,
        )
        if form.is_published and not version.effective_privacy_url():
            form.is_published = False
        form.current_version = version
        form.save()
    return version


@staff_required(change=True)
@require_http_methods(["GET", "POST"])
def form_edit(request, pk: int | None = None):
    form_obj = get_object_or_404(SignupForm, pk=pk) if pk else None
    builder = BuilderForm(request.POST or None, initial=_initial(form_obj))
    if request.method == "POST" and builder.is_valid():
        if form_obj is None:
            form_obj = SignupForm.objects.create(
                name=builder.cleaned_data["name"], created_by=request.user
            )
        version = save_version(form_obj, builder.cleaned_data, request.user)
        audit(request.user, AuditAction.CHANGE, form_obj, detail=f"version {version.number}")
        messages.success(request, _("Saved as version %(n)d.") % {"n": version.number})
        return redirect("signup:detail", form_obj.pk)
    return render(request, "signup/staff/edit.html", {"builder": builder, "signup_form": form_obj})


def snippets(form: SignupForm, request) -> dict:
    version = form.current_version
    base = settings.AKKOORD_BASE_URL
    hosted = base + reverse("signup:form", args=[form.public_key])
    with translation.override(version.language):
        context = form_context(version, prefix=f"ak-{form.public_key}-", timed=False, action=hosted)
        plain = render_to_string("signup/_form.html", context)
    script = (
        f'<div data-akkoord-form="{hosted}"><a href="{hosted}">{escape(version.title)}</a></div>\n'
        f'<script src="{base}/static/signup/embed.js" defer></script>'
    )
    return {"hosted_url": hosted, "plain_html": plain, "script_html": script}


@staff_required
def form_detail(request, pk: int):
    form = get_object_or_404(SignupForm.objects.select_related("current_version"), pk=pk)
    version = form.current_version
    context = {"signup_form": form, "version": version, "may_change": request.user.can_change_data}
    if version is not None:
        context["preview"] = form_context(version, prefix="preview-", action="#")
        context["privacy_url"] = version.effective_privacy_url()
        context.update(snippets(form, request))
    context["versions"] = form.versions.all()
    context["pending_count"] = PendingSignup.objects.filter(
        form_version__form=form, confirmed_at__isnull=True
    ).count()
    context["confirmed_count"] = PendingSignup.objects.filter(
        form_version__form=form, confirmed_at__isnull=False
    ).count()
    return render(request, "signup/staff/detail.html", context)


@staff_required(change=True)
@require_POST
def form_publish(request, pk: int):
    with transaction.atomic():
        form = get_object_or_404(SignupForm.objects.select_for_update(), pk=pk)
        version = form.current_version
        if version is None:
            messages.error(request, _("Save the form before publishing it."))
        elif not version.effective_privacy_url():
            messages.error(
                request,
                _(
                    "A form without a link to the privacy statement cannot be published. "
                    "Set one on the form or in the organisation settings."
                ),
            )
        else:
            form.is_published = True
            form.save(update_fields=["is_published"])
            if version.published_at is None:
                FormVersion.objects.filter(pk=version.pk).update(published_at=timezone.now())
            audit(request.user, AuditAction.CHANGE, form, detail="published")
            messages.success(request, _("The form is published."))
    return redirect("signup:detail", pk)


@staff_required(change=True)
@require_POST
def form_unpublish(request, pk: int):
    form = get_object_or_404(SignupForm, pk=pk)
    SignupForm.objects.filter(pk=pk).update(is_published=False)
    audit(request.user, AuditAction.CHANGE, form, detail="unpublished")
    messages.success(request, _("The form is no longer published."))
    return redirect("signup:detail", pk)
