"""Settings screens: the organisation, purposes and contact fields.

Every staff user may read them; only administrators change them, and every
change is written to the audit log.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from akkoord.accounts.audit import audit
from akkoord.accounts.decorators import staff_required
from akkoord.accounts.models import AuditAction
from akkoord.consent.models import Purpose
from akkoord.contacts.models import ContactField
from akkoord.front.forms import ContactFieldForm, OrganisationForm, PurposeForm
from akkoord.organisation.models import Organisation


def _may_change(request) -> bool:
    return bool(getattr(request.user, "is_administrator", False))


def _edit(request, form_class, instance, template, success, extra=None):
    """Show a settings form; save it (administrators only) and audit the change."""
    read_only = not _may_change(request)
    if request.method == "POST":
        if read_only:
            raise PermissionDenied
        form = form_class(request.POST, instance=instance)
        if form.is_valid():
            with transaction.atomic():
                saved = form.save()
                audit(
                    request.user,
                    AuditAction.SETTINGS,
                    saved,
                    detail="fields: " + ", ".join(form.changed_data),
                )
            messages.success(request, _("The settings were saved."))
            return redirect(success)
    else:
        form = form_class(instance=instance, read_only=read_only)
    context = {"form": form, "object": instance, "read_only": read_only, **(extra or {})}
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@staff_required
def organisation_settings(request):
    return _edit(
        request,
        OrganisationForm,
        Organisation.current(),
        "front/settings.html",
        "front:settings",
    )


@staff_required
def purpose_list(request):
    return render(
        request,
        "front/purposes.html",
        {"purposes": Purpose.objects.all(), "may_change": _may_change(request)},
    )


@require_http_methods(["GET", "POST"])
@staff_required(admin=True)
def purpose_create(request):
    return _edit(request, PurposeForm, Purpose(), "front/purpose_form.html", "front:purposes")


@require_http_methods(["GET", "POST"])
@staff_required
def purpose_edit(request, pk: int):
    purpose = get_object_or_404(Purpose, pk=pk)
    return _edit(request, PurposeForm, purpose, "front/purpose_form.html", "front:purposes")


@staff_required
def field_list(request):
    return render(
        request,
        "front/fields.html",
        {"fields": ContactField.objects.all(), "may_change": _may_change(request)},
    )


@require_http_methods(["GET", "POST"])
@staff_required(admin=True)
def field_create(request):
    return _edit(request, ContactFieldForm, ContactField(), "front/field_form.html", "front:fields")


@require_http_methods(["GET", "POST"])
@staff_required
def field_edit(request, pk: int):
    field = get_object_or_404(ContactField, pk=pk)
    return _edit(request, ContactFieldForm, field, "front/field_form.html", "front:fields")
