"""Staff forms of the accountability app."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from akkoord.accountability.models import (
    EEA_COUNTRIES,
    AccountabilitySettings,
    Breach,
    CategoryRetention,
    ProcessingActivity,
    Processor,
)

_COUNTRY_HELP = _("Two letters, e.g. NL, DE, US.")


def _clean_country(value: str) -> str:
    value = (value or "").strip().upper()
    if len(value) != 2 or not value.isalpha() or not value.isascii():
        raise forms.ValidationError(_("Enter a two-letter country code, e.g. NL."))
    return value


class ProcessorForm(forms.ModelForm):
    class Meta:
        model = Processor
        fields = ["name", "service_nl", "service_en", "country", "safeguard", "safeguard_detail"]
        help_texts = {"country": _COUNTRY_HELP}

    def clean_country(self):
        return _clean_country(self.cleaned_data.get("country"))

    def clean(self):
        data = super().clean()
        if data.get("safeguard") == "other" and not data.get("safeguard_detail"):
            self.add_error("safeguard_detail", _("Describe the safeguard."))
        if data.get("country") in EEA_COUNTRIES and data.get("safeguard"):
            data["safeguard"] = ""
            data["safeguard_detail"] = ""
        return data


class ActivityForm(forms.ModelForm):
    class Meta:
        model = ProcessingActivity
        fields = [
            "name_nl",
            "name_en",
            "description_nl",
            "description_en",
            "legal_basis",
            "persons_nl",
            "persons_en",
            "source_nl",
            "source_en",
            "recipients_nl",
            "recipients_en",
            "processors",
            "retention_days",
            "retention_reason_nl",
            "retention_reason_en",
        ]
        widgets = {"processors": forms.CheckboxSelectMultiple}


class SettingsForm(forms.ModelForm):
    class Meta:
        model = AccountabilitySettings
        fields = [
            "storage_country",
            "storage_location",
            "security_nl",
            "security_en",
            "rights_nl",
            "rights_en",
            "objection_nl",
            "objection_en",
            "withdrawal_nl",
            "withdrawal_en",
            "complaint_nl",
            "complaint_en",
            "required_nl",
            "required_en",
            "automated_nl",
            "automated_en",
            "audit_log_days",
            "caught_mail_days",
        ]
        help_texts = {"storage_country": _COUNTRY_HELP}

    def clean_storage_country(self):
        return _clean_country(self.cleaned_data.get("storage_country"))


class CategoryRetentionForm(forms.ModelForm):
    class Meta:
        model = CategoryRetention
        fields = ["retention_days", "reason_nl", "reason_en"]


CategoryRetentionFormSet = forms.modelformset_factory(
    CategoryRetention, form=CategoryRetentionForm, extra=0
)


class BreachForm(forms.ModelForm):
    aware_at = forms.DateTimeField(
        label=_("moment the organisation became aware"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )
    authority_notified_at = forms.DateTimeField(
        label=_("notified to the Autoriteit Persoonsgegevens at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )

    class Meta:
        model = Breach
        fields = [
            "title",
            "aware_at",
            "nature",
            "categories_of_persons",
            "categories_of_data",
            "approx_persons",
            "approx_records",
            "consequences",
            "measures",
            "affected_all",
            "affected_purpose",
            "authority_text",
            "authority_notified_at",
            "person_subject_nl",
            "person_text_nl",
            "person_subject_en",
            "person_text_en",
        ]

    def clean(self):
        data = super().clean()
        aware, notified = data.get("aware_at"), data.get("authority_notified_at")
        if aware and notified and notified < aware:
            self.add_error(
                "authority_notified_at", _("The notification cannot precede the awareness.")
            )
        if data.get("affected_all") and data.get("affected_purpose"):
            self.add_error("affected_purpose", _("Choose all contacts or one purpose, not both."))
        return data


class PublishForm(forms.Form):
    material = forms.BooleanField(
        label=_("This is a material change: consents given under older versions need renewal"),
        required=False,
    )
