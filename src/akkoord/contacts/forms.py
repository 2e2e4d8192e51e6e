"""Forms of the staff contact pages.

The forms only shape the input; the rules live in ``contacts.services`` so that
staff pages, sign-up forms, the API and imports validate alike. Errors the
services raise are put back on the form field they belong to.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from akkoord.consent.forms import PurposeChoiceField
from akkoord.consent.models import Purpose
from akkoord.contacts.models import (
    Contact,
    ContactField,
    FieldKind,
    Language,
    ProductCategory,
    SourceKind,
)
from akkoord.contacts.services import CORE_FIELDS


def field_name(key: str) -> str:
    return f"field_{key}"


class ContactForm(forms.Form):
    """Core fields plus every active configured field (labels in the current language)."""

    email = forms.CharField(label=_("E-mail address"), max_length=254)
    first_name = forms.CharField(
        label=_("First name"), max_length=CORE_FIELDS["first_name"], required=False
    )
    last_name = forms.CharField(
        label=_("Last name"), max_length=CORE_FIELDS["last_name"], required=False
    )
    organisation_name = forms.CharField(
        label=_("Organisation"), max_length=CORE_FIELDS["organisation_name"], required=False
    )
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)

    def __init__(self, *args, language: str = "nl", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.input_type = "email"
        self.configured = list(ContactField.objects.filter(is_active=True))
        for field in self.configured:
            widget = forms.TextInput()
            if field.kind == FieldKind.DATE:
                widget = forms.DateInput(attrs={"type": "date"})
            elif field.kind == FieldKind.PHONE:
                widget = forms.TextInput(attrs={"type": "tel"})
            elif field.kind == FieldKind.NUMBER:
                widget = forms.TextInput(attrs={"inputmode": "decimal"})
            self.fields[field_name(field.key)] = forms.CharField(
                label=field.label(language),
                required=False,
                max_length=field.max_length,
                widget=widget,
            )

    def service_data(self) -> dict:
        """The cleaned data in the shape ``register_contact``/``update_contact`` take."""
        data = {key: self.cleaned_data[key] for key in ("email", "language", *CORE_FIELDS)}
        fields = {f.key: self.cleaned_data.get(field_name(f.key), "") for f in self.configured}
        if fields:
            data["fields"] = fields
        return data

    def add_service_errors(self, error: ValidationError) -> None:
        """Put the errors a service raised on the fields they name."""
        for name, messages in error.message_dict.items():
            target = name
            if name.startswith("fields."):
                target = field_name(name.removeprefix("fields."))
            if target not in self.fields:
                target = None
            for message in messages:
                self.add_error(target, message)


class PurchaseForm(forms.Form):
    purchased_on = forms.DateField(
        label=_("Date of purchase"), widget=forms.DateInput(attrs={"type": "date"})
    )
    description = forms.CharField(label=_("What was bought"), max_length=200)
    reference = forms.CharField(label=_("Order reference"), max_length=100, required=False)
    amount = forms.DecimalField(
        label=_("Amount"),
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        localize=True,
        help_text=_("What the purchase cost, in your organisation's currency (optional)."),
    )
    category = forms.ModelChoiceField(
        label=_("Product category"),
        queryset=ProductCategory.objects.all(),
        required=False,
        empty_label=_("Uncategorised"),
        help_text=_(
            "A similar-products campaign may reach a customer on the soft opt-in only for "
            "products similar to what was bought."
        ),
    )
    objection_offered = forms.BooleanField(
        label=_("The person was offered the chance to object to marketing at this sale"),
        required=False,
        help_text=_(
            "Only then may similar products be mailed on the basis of the customer "
            "relationship (soft opt-in)."
        ),
    )

    def clean_purchased_on(self):
        day = self.cleaned_data["purchased_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("A purchase cannot be in the future."))
        return day

    def add_service_errors(self, error: ValidationError) -> None:
        for name, messages in error.message_dict.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)


STATE_CHOICES = [
    ("", _("any")),
    ("granted", _("consent given")),
    ("pending", _("pending confirmation")),
    ("unproven", _("unproven consent")),
    ("withdrawn", _("withdrawn")),
    ("none", _("no consent")),
]


class ContactFilterForm(forms.Form):
    """Search and filters of the contact list (all optional, bad values ignored)."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    purpose = PurposeChoiceField(
        label=_("Purpose"), queryset=Purpose.objects.all(), required=False, empty_label=_("any")
    )
    state = forms.ChoiceField(label=_("Consent"), choices=STATE_CHOICES, required=False)
    customer = forms.ChoiceField(
        label=_("Customer"),
        choices=[("", _("any")), ("yes", _("yes")), ("no", _("no"))],
        required=False,
    )
    source = forms.ChoiceField(
        label=_("Source"), choices=[("", _("any")), *SourceKind.choices], required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.input_type = "search"

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("state") and not cleaned.get("purpose"):
            self.add_error("purpose", _("Choose the purpose whose consent to filter on."))
        return cleaned


def contact_initial(contact: Contact, values: dict[str, str]) -> dict:
    initial = {
        "email": contact.email,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "organisation_name": contact.organisation_name,
        "language": contact.language,
    }
    for key, value in values.items():
        initial[field_name(key)] = value
    return initial
