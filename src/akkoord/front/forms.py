"""Forms of the settings screens (administrators change, everyone else reads)."""

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from akkoord.consent.models import Purpose
from akkoord.contacts.models import ContactField
from akkoord.organisation.models import Organisation


class ReadOnlyMixin:
    """Render every field disabled for users who may only read the settings."""

    def __init__(self, *args, read_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.read_only = read_only
        if read_only:
            for field in self.fields.values():
                field.disabled = True


def _formfield(field, **kwargs):
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class OrganisationForm(ReadOnlyMixin, forms.ModelForm):
    class Meta:
        model = Organisation
        formfield_callback = _formfield
        fields = [
            "name",
            "address",
            "contact_email",
            "service_mail_from",
            "phone",
            "website",
            "chamber_of_commerce",
            "default_language",
            "form_of_address_nl",
            "customer_relationship_months",
            "privacy_statement_url",
            "centre_link_days",
            "dpo_name",
            "dpo_email",
            "dpo_advice_threshold",
        ]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}


class PurposeForm(ReadOnlyMixin, forms.ModelForm):
    """A purpose. Its key is fixed once created: links, the API and imports name it."""

    class Meta:
        model = Purpose
        fields = [
            "key",
            "name_nl",
            "name_en",
            "consent_text_nl",
            "consent_text_en",
            "is_marketing",
            "double_opt_in",
            "retention_days",
            "retention_reason_nl",
            "retention_reason_en",
            "is_active",
            "position",
        ]
        widgets = {
            "consent_text_nl": forms.Textarea(attrs={"rows": 3}),
            "consent_text_en": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "key": _("Lower-case letters, digits and hyphens; cannot be changed later."),
            "is_active": _(
                "Purposes are never deleted, because the consent ledger refers to them. "
                "Switch this off to stop using a purpose."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["key"].disabled = True
        self.fields["retention_days"].min_value = 1
        self.fields["retention_days"].max_value = 36500
        self.fields["retention_days"].widget.attrs.update(min=1, max=36500)

    def clean_retention_days(self):
        days = self.cleaned_data["retention_days"]
        if days is not None and not 1 <= days <= 36500:
            raise forms.ValidationError(_("Enter a number of days between 1 and 36500."))
        return days


class ContactFieldForm(ReadOnlyMixin, forms.ModelForm):
    """A configured contact field. Key fixed once created; kind fixed once it holds values."""

    class Meta:
        model = ContactField
        fields = [
            "key",
            "label_nl",
            "label_en",
            "kind",
            "category",
            "max_length",
            "editable_by_contact",
            "is_active",
            "position",
        ]
        help_texts = {
            "key": _("Lower-case letters, digits and hyphens; cannot be changed later."),
            "category": _("Feeds the processing register."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["key"].disabled = True
            if self.instance.values.exists():
                self.fields["kind"].disabled = True
                self.fields["kind"].help_text = _(
                    "Cannot be changed: contacts already have values in this field."
                )
        self.fields["max_length"].widget.attrs.update(min=1, max=2000)

    def clean_max_length(self):
        length = self.cleaned_data["max_length"]
        if length is not None and not 1 <= length <= 2000:
            raise forms.ValidationError(_("Enter a length between 1 and 2000."))
        return length

    def clean_key(self):
        key = self.cleaned_data["key"]
        if not self.instance.pk and key in {
            "email",
            "first_name",
            "last_name",
            "organisation_name",
            "language",
            "fields",
        }:
            raise forms.ValidationError(_("This key is already used by a standard field."))
        return key
