"""Staff forms: templates, sending domains, campaigns."""

from __future__ import annotations

import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from akkoord.campaigns.models import Campaign, MailTemplate, SendingDomain
from akkoord.campaigns.rendering import TemplateError, compile_template
from akkoord.consent.models import Purpose
from akkoord.consent.rules import Audience, MailClass, audience_allows

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_LOCAL = re.compile(r"^[a-z0-9][a-z0-9._+-]{0,63}$")


class MailTemplateForm(forms.ModelForm):
    class Meta:
        model = MailTemplate
        fields = ["name", "subject_nl", "text_nl", "html_nl", "subject_en", "text_en", "html_en"]
        widgets = {
            "text_nl": forms.Textarea(attrs={"rows": 8}),
            "html_nl": forms.Textarea(attrs={"rows": 10}),
            "text_en": forms.Textarea(attrs={"rows": 8}),
            "html_en": forms.Textarea(attrs={"rows": 10}),
        }

    def clean(self):
        cleaned = super().clean()
        for name in ("subject_nl", "text_nl", "html_nl", "subject_en", "text_en", "html_en"):
            try:
                compile_template(cleaned.get(name) or "")
            except TemplateError as error:
                self.add_error(name, str(error))
        languages = [
            lang
            for lang in ("nl", "en")
            if (cleaned.get(f"subject_{lang}") or "").strip()
            and (cleaned.get(f"text_{lang}") or "").strip()
        ]
        if not languages:
            raise forms.ValidationError(
                _("Fill in at least one language: a subject and a plain-text part.")
            )
        for lang in ("nl", "en"):
            if (cleaned.get(f"html_{lang}") or "").strip() and lang not in languages:
                self.add_error(
                    f"text_{lang}",
                    _("An HTML part needs a subject and a plain-text part in the same language."),
                )
        return cleaned


class SendingDomainForm(forms.ModelForm):
    class Meta:
        model = SendingDomain
        fields = ["domain", "selector"]

    def clean_domain(self):
        domain = self.cleaned_data["domain"].strip().lower().rstrip(".")
        if not _DOMAIN.match(domain):
            raise forms.ValidationError(_("Enter a domain name such as mail.example.com."))
        return domain


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = [
            "name",
            "purpose",
            "mail_class",
            "audience",
            "template",
            "sending_domain",
            "from_name",
            "from_local",
            "fallback_language",
            "rate_limit",
            "rate_period",
            "deadline",
        ]
        widgets = {"deadline": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"].queryset = Purpose.objects.filter(is_active=True, is_marketing=True)
        self.fields["audience"].help_text = _(
            "Customers only and customers + opt-ins may only carry offers for products similar "
            "to what customers bought. Anything else: opt-ins only."
        )

    def clean_from_local(self):
        value = self.cleaned_data["from_local"].strip().lower()
        if not _LOCAL.match(value):
            raise forms.ValidationError(_("Use letters, digits, dots, dashes or underscores."))
        return value

    def clean_rate_limit(self):
        value = self.cleaned_data.get("rate_limit")
        if value is not None and value < 1:
            raise forms.ValidationError(_("Leave empty for no limit, or enter at least 1."))
        return value

    def clean(self):
        cleaned = super().clean()
        mail_class = cleaned.get("mail_class")
        audience = cleaned.get("audience")
        if mail_class == MailClass.REPERMISSION:
            cleaned["audience"] = ""
            deadline = cleaned.get("deadline")
            if not deadline:
                self.add_error("deadline", _("A re-permission mail needs an answer deadline."))
            elif deadline <= timezone.localdate():
                self.add_error("deadline", _("The deadline must be in the future."))
        elif mail_class:
            if not audience:
                self.add_error("audience", _("Choose an audience."))
            elif not audience_allows(Audience(audience), MailClass(mail_class)):
                self.add_error(
                    "audience",
                    _(
                        "This audience may only receive offers for products similar to what "
                        "customers bought. For other content choose 'opt-ins only'."
                    ),
                )
        return cleaned


class ScheduleForm(forms.Form):
    send_at = forms.DateTimeField(
        label=_("Send at (leave empty to send now)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def clean_send_at(self):
        value = self.cleaned_data.get("send_at")
        if value is not None and value < timezone.now():
            raise forms.ValidationError(_("This moment has passed. Leave empty to send now."))
        return value
