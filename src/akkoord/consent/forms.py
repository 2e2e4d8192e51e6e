"""Forms for consent a staff user records on behalf of a person (phone, in person)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from akkoord.consent.models import ConsentState, Purpose
from akkoord.consent.rules import ConsentStatus
from akkoord.contacts.models import Contact, Language
from akkoord.front.templatetags.staff_tags import current_language


class PurposeChoiceField(forms.ModelChoiceField):
    """Purposes by their name in the language of the page."""

    def label_from_instance(self, obj: Purpose) -> str:
        return obj.name(current_language())


HOW_CHOICES = [("phone", _("by phone")), ("in person", _("in person"))]


class _StaffProofForm(forms.Form):
    how = forms.ChoiceField(label=_("How did the person tell you?"), choices=HOW_CHOICES)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional: for example the date of the conversation or the ticket number."),
    )


class GrantForm(_StaffProofForm):
    purpose = PurposeChoiceField(
        label=_("Purpose"), queryset=Purpose.objects.filter(is_active=True)
    )
    text_language = forms.ChoiceField(
        label=_("Language of the consent text you read out or showed"), choices=Language.choices
    )
    text_agreed = forms.BooleanField(
        label=_(
            "I read out or showed the person the exact consent text of this purpose, "
            "and the person agreed to it."
        ),
        required=True,
        error_messages={"required": _("Consent is only valid for the exact text the person saw.")},
    )
    field_order = ["purpose", "text_language", "how", "note", "text_agreed"]


class WithdrawForm(_StaffProofForm):
    purpose = PurposeChoiceField(label=_("Purpose"), queryset=Purpose.objects.none())
    field_order = ["purpose", "how", "note"]

    def __init__(self, *args, contact: Contact, **kwargs):
        super().__init__(*args, **kwargs)
        active = ConsentState.objects.filter(contact=contact).exclude(
            status__in=[ConsentStatus.NONE.value, ConsentStatus.WITHDRAWN.value]
        )
        self.fields["purpose"].queryset = Purpose.objects.filter(pk__in=active.values("purpose_id"))
        self.fields["purpose"].error_messages["invalid_choice"] = _(
            "This person has no consent for that purpose to withdraw."
        )


class ObjectionForm(_StaffProofForm):
    understood = forms.BooleanField(
        label=_(
            "The person objects to all direct marketing. I understand that from now on no "
            "marketing mail of any purpose will be sent to this person."
        ),
        required=True,
    )
