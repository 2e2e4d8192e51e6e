from django import forms
from django.utils.translation import gettext_lazy as _

from akkoord.consent.models import Purpose
from akkoord.transfer.exporting import MIN_PASSWORD

MAX_UPLOAD = 50 * 1024 * 1024


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("File (CSV or XLSX)"),
        help_text=_("Up to 50 MB here; use the command akkoord import for larger files."),
    )
    purpose = forms.ModelChoiceField(
        label=_("Purpose the consents in this file are for"),
        queryset=Purpose.objects.filter(is_active=True),
        to_field_name="key",
    )
    format = forms.ChoiceField(
        label=_("Format"),
        choices=[
            ("auto", _("Recognise automatically")),
            ("mailchimp", "Mailchimp"),
            ("listmonk", "listmonk"),
            ("laposta", "Laposta"),
            ("csv", _("Other CSV")),
        ],
    )
    encoding = forms.ChoiceField(
        label=_("Text encoding (CSV)"),
        choices=[("utf-8", "UTF-8"), ("cp1252", "Windows-1252"), ("latin-1", "ISO-8859-1")],
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(_("The file is larger than 50 MB."))
        if not upload.name.lower().endswith((".csv", ".txt", ".xlsx")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        return upload


class ExportForm(forms.Form):
    password = forms.CharField(
        label=_("Password for the zip file"),
        min_length=MIN_PASSWORD,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("At least 12 characters. Send it to the recipient by another channel."),
    )
