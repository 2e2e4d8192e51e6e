from django import forms
from django.utils.translation import gettext_lazy as _

from akkoord.consent.models import Purpose
from akkoord.contacts.models import Language
from akkoord.signup.presentation import available_fields


class BuilderForm(forms.Form):
    """Everything a version of a sign-up form holds; saving makes a new version."""

    name = forms.CharField(label=_("Name (for staff)"), max_length=100)
    language = forms.ChoiceField(label=_("Language of the form"), choices=Language.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    intro = forms.CharField(
        label=_("Introduction"), max_length=2000, required=False, widget=forms.Textarea
    )
    fields = forms.MultipleChoiceField(
        label=_("Fields to ask for (besides the e-mail address)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    required_fields = forms.MultipleChoiceField(
        label=_("Of these, required"), required=False, widget=forms.CheckboxSelectMultiple
    )
    purposes = forms.ModelMultipleChoiceField(
        label=_("Purposes (one checkbox each, never pre-ticked)"),
        queryset=Purpose.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple,
    )
    privacy_statement_url = forms.URLField(
        label=_("Privacy statement URL"),
        required=False,
        assume_scheme="https",
        help_text=_("Leave empty to use the organisation's privacy statement."),
    )
    thank_you_text = forms.CharField(
        label=_("Thank-you text (after sending the form)"), max_length=2000, widget=forms.Textarea
    )
    confirmed_text = forms.CharField(
        label=_("Text after confirming"), max_length=2000, widget=forms.Textarea
    )
    expiry_days = forms.IntegerField(
        label=_("Delete unconfirmed sign-ups after (days)"), min_value=1, max_value=90, initial=30
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = available_fields()
        self.fields["fields"].choices = choices
        self.fields["required_fields"].choices = choices

    def clean(self):
        cleaned = super().clean()
        asked = set(cleaned.get("fields") or [])
        extra = set(cleaned.get("required_fields") or []) - asked
        if extra:
            self.add_error("required_fields", _("Only fields the form asks for can be required."))
        return cleaned
