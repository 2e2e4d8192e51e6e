"""Staff pages: send the privacy confirmation; edit its templates and when it goes."""

import logging

from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from akkoord.accounts.audit import audit
from akkoord.accounts.models import AuditAction
from akkoord.contacts.models import Contact
from akkoord.lib.sandbox import TemplateError
from akkoord.notices.access import staff_required
from akkoord.notices.forms import NoticeSettingsForm, SendForm, TemplateForm
from akkoord.notices.models import NoticeSettings, NoticeTemplate
from akkoord.notices.rendering import CONTEXT_NAMES
from akkoord.notices.services import (
    addresses_for,
    default_template,
    render_for,
    send_privacy_confirmation,
)

logger = logging.getLogger(__name__)


def _contact_page(contact) -> str:
    try:
        return reverse("contacts:detail", args=[contact.pk])
    except NoReverseMatch:
        return reverse("notices:send", args=[contact.pk])


@staff_required(change=True)
@require_http_methods(["GET", "POST"])
def send(request, contact_id: int):
    contact = get_object_or_404(Contact, pk=contact_id)
    default = default_template()
    addresses = addresses_for(contact)
    initial = {"to": contact.email, "template": default.pk, "language": contact.language}
    form = SendForm(request.POST or None, addresses=addresses, initial=initial)
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            send_privacy_confirmation(
                contact,
                to=data["to"],
                template=data["template"],
                language=data["language"],
                subject=data["subject"] or None,
                actor=request.user.email,
            )
        except TemplateError as problem:
            form.add_error("template", str(problem))
        except Exception:  # noqa: BLE001 - delivery failures are shown, not raised
            logger.exception("privacy confirmation for contact %s could not be sent", contact.pk)
            form.add_error(
                None, _("The mail could not be sent. Check the mail settings and try again.")
            )
        else:
            audit(request.user, AuditAction.SEND, contact, detail="privacy confirmation")
            messages.success(request, _("The privacy confirmation was sent and archived."))
            return redirect(_contact_page(contact))
    template = default
    language = contact.language
    if form.is_bound and form.is_valid():
        template, language = form.cleaned_data["template"], form.cleaned_data["language"]
    try:
        subject, text, _html = render_for(contact, template, language)
        preview = {"subject": subject, "text": text, "language": language}
    except TemplateError as problem:
        preview = {"subject": "", "text": str(problem)}
    audit(request.user, AuditAction.VIEW, contact, detail="privacy confirmation preview")
    return render(
        request,
        "notices/send.html",
        {"contact": contact, "form": form, "preview": preview, "back": _contact_page(contact)},
    )


@staff_required
def template_list(request):
    default_template()
    return render(
        request,
        "notices/template_list.html",
        {
            "templates": NoticeTemplate.objects.all(),
            "settings_form": NoticeSettingsForm(instance=NoticeSettings.current()),
            "may_change": request.user.can_change_data,
        },
    )


@staff_required(change=True)
@require_http_methods(["GET", "POST"])
def template_edit(request, pk: int | None = None):
    instance = get_object_or_404(NoticeTemplate, pk=pk) if pk else default_template_copy()
    form = TemplateForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save()
            if saved.is_default:
                NoticeTemplate.objects.exclude(pk=saved.pk).update(is_default=False)
            audit(request.user, AuditAction.SETTINGS, saved, detail="privacy confirmation template")
        messages.success(request, _("The template was saved."))
        return redirect("notices:templates")
    return render(
        request,
        "notices/template_edit.html",
        {"form": form, "names": CONTEXT_NAMES, "is_new": instance.pk is None},
    )


def default_template_copy() -> NoticeTemplate:
    source = default_template()
    return NoticeTemplate(
        name="",
        subject_nl=source.subject_nl,
        body_nl=source.body_nl,
        subject_en=source.subject_en,
        body_en=source.body_en,
    )


@staff_required(change=True)
@require_http_methods(["POST"])
def settings_save(request):
    form = NoticeSettingsForm(request.POST, instance=NoticeSettings.current())
    if form.is_valid():
        form.save()
        audit(request.user, AuditAction.SETTINGS, None, object_type="noticesettings")
        messages.success(request, _("The settings were saved."))
    return redirect("notices:templates")
