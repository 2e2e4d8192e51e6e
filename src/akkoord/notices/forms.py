from django import forms
from django.utils.translation import gettext_lazy as _

from akkoord.contacts.models import Language
from akkoord.lib.sandbox import TemplateError
from akkoord.notices.models import NoticeSettings, NoticeTemplate
from akkoord.notices.rendering import CONTEXT_NAMES, check_template


class SendForm(forms.Form):
    to = forms.ChoiceField(label=_("Send to"))
    template = forms.ModelChoiceField(
        label=_("Template"), queryset=NoticeTemplate.objects.all(), empty_label=None
    )
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    subject = forms.CharField(
        label=_("Subject"),
        max_length=200,
        required=False,
        help_text=_("Leave empty to use the template's subject."),
    )

    def __init__(self, *args, addresses: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [(a, a) for a in addresses]


class TemplateForm(forms.ModelForm):
    class Meta:
        model = NoticeTemplate
        fields = ["name", "is_default", "subject_nl", "body_nl", "subject_en", "body_en"]
        widgets = {
            "body_nl": forms.Textarea(attrs={"rows": 18}),
            "body_en": forms.Textarea(attrs={"rows": 18}),
        }

    help = _("You can use: %(names)s.") % {"names": ", ".join(CONTEXT_NAMES)}

    def clean(self):
        cleaned = super().clean()
        for language in ("nl", "en"):
            subject = cleaned.get(f"subject_{language}")
            body = cleaned.get(f"body_{language}")
            if subject is None or body is None:
                continue
            try:
                check_template(subject, body)
            except TemplateError as problem:
                self.add_error(
                    f"body_{language}", _("This text cannot be used: %(why)s") % {"why": problem}
                )
        return cleaned


class NoticeSettingsForm(forms.ModelForm):
    class Meta:
        model = NoticeSettings
        fields = ["send_on_form", "send_on_import", "send_on_api", "send_on_staff"]
