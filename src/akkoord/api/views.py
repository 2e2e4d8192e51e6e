"""Staff pages for API keys, and the API's documentation page."""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from akkoord.accounts.audit import audit
from akkoord.accounts.decorators import staff_required
from akkoord.accounts.models import AuditAction
from akkoord.api.models import ApiKey, Scope


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name of the integration"),
        max_length=100,
        help_text=gettext_lazy("Shown in the audit log as api:<name>."),
    )
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("Scopes"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple
    )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if any(ord(ch) < 32 for ch in name):
            raise forms.ValidationError(_("Must not contain control characters."))
        if ApiKey.objects.filter(name=name).exists():
            raise forms.ValidationError(_("A key with this name exists; choose another name."))
        return name


@staff_required(admin=True)
def keys(request):
    """List keys and create one; a new key's token is shown once, never again."""
    token = None
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        key, token = ApiKey.issue(
            form.cleaned_data["name"], form.cleaned_data["scopes"], created_by=request.user
        )
        audit(request.user, AuditAction.CREATE, key, detail="API key created")
        form = ApiKeyForm()
    return render(
        request,
        "api/keys.html",
        {
            "form": form,
            "keys": ApiKey.objects.all(),
            "token": token,
            "scope_labels": dict(Scope.choices),
        },
    )


@require_POST
@staff_required(admin=True)
def revoke_key(request, pk: int):
    key = get_object_or_404(ApiKey, pk=pk)
    key.revoke()
    audit(request.user, AuditAction.CHANGE, key, detail="API key revoked")
    messages.success(request, _("The key %(name)s no longer works.") % {"name": key.name})
    return redirect("api:keys")


def docs(request):
    """The API reference, rendered in the browser from the OpenAPI document
    by Akkoord's own script (no third-party assets)."""
    from akkoord.organisation.models import Organisation

    return render(
        request,
        "api/docs.html",
        {"openapi_url": reverse("api:v1:openapi-json"), "organisation": Organisation.current()},
    )
