"""Staff forms: templates, sending domains, campaigns."""

from __future__ import annotations

import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from akkoord.campaigns.answer_links import campaign_problems, parts_problems
from akkoord.campaigns.markdown_mail import markdown_to_parts
from akkoord.campaigns.models import Campaign, CampaignStatus, MailTemplate, SendingDomain
from akkoord.consent.models import Purpose
from akkoord.consent.rules import Audience, MailClass, audience_allows
from akkoord.lib.sandbox import TemplateError, compile_template

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_LOCAL = re.compile(r"^[a-z0-9][a-z0-9._+-]{0,63}$")


_LANGUAGES = ("nl", "en")
_MARKDOWN_HELP = _(
    "Write the mail as plain text. **bold**, *italic*, [link text](https://example.nl), "
    "a line starting with # for a heading, lines starting with - for a list. Placeholders "
    "such as {{ first_name }} and, in a re-permission mail, [Yes]({{ yes_url }}) and "
    "[No]({{ no_url }}) are filled in per person. HTML tags are shown as text."
)


class MailTemplateForm(forms.ModelForm):
    """A template in Markdown per language, or with its own HTML and text parts.

    A language with a Markdown body gets its HTML and text parts generated
    from it on save (``markdown_mail``); the HTML and text fields are then
    replaced. A language without one keeps the parts as typed.
    """

    class Meta:
        model = MailTemplate
        fields = [
            "name",
            "subject_nl",
            "body_nl",
            "subject_en",
            "body_en",
            "text_nl",
            "html_nl",
            "text_en",
            "html_en",
        ]
        widgets = {
            "body_nl": forms.Textarea(attrs={"rows": 16, "class": "markdown", "lang": "nl"}),
            "body_en": forms.Textarea(attrs={"rows": 16, "class": "markdown", "lang": "en"}),
            "text_nl": forms.Textarea(attrs={"rows": 8}),
            "html_nl": forms.Textarea(attrs={"rows": 10}),
            "text_en": forms.Textarea(attrs={"rows": 8}),
            "html_en": forms.Textarea(attrs={"rows": 10}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for lang in _LANGUAGES:
            self.fields[f"body_{lang}"].help_text = _MARKDOWN_HELP
            self.fields[f"html_{lang}"].help_text = _(
                "Used only when the Markdown field of this language is empty; otherwise "
                "it is replaced by the HTML made from the Markdown when saving."
            )

    def language_fields(self, lang: str) -> dict:
        """The fields a marketer writes a language in: its subject and its Markdown."""
        return {"subject": self[f"subject_{lang}"], "body": self[f"body_{lang}"]}

    def advanced_fields(self) -> list:
        return [self[name] for lang in _LANGUAGES for name in (f"text_{lang}", f"html_{lang}")]

    def advanced_open(self) -> bool:
        """Open the advanced part when a problem is in it, or when a language is written
        there (own HTML or text, no Markdown): otherwise its content would be hidden."""
        if self.is_bound and any(field.errors for field in self.advanced_fields()):
            return True
        values = self.data if self.is_bound else self.initial
        return any(
            not (values.get(f"body_{lang}") or "").strip()
            and any((values.get(f"{part}_{lang}") or "").strip() for part in ("html", "text"))
            for lang in _LANGUAGES
        )

    def _written_in_markdown(self, lang: str) -> bool:
        # From the submitted data: cleaned_data loses a field once it has an error.
        return lang in self._markdown_languages

    def _find_markdown_languages(self, cleaned) -> None:
        self._markdown_languages = {
            lang for lang in _LANGUAGES if (cleaned.get(f"body_{lang}") or "").strip()
        }

    def _source_field(self, name: str) -> str:
        """The field a problem in ``name`` is the writer's to fix in."""
        part, lang = name.split("_")
        if part in ("html", "text") and self._written_in_markdown(lang):
            return f"body_{lang}"
        return name

    def _generate_from_markdown(self, cleaned) -> None:
        for lang in _LANGUAGES:
            if self._written_in_markdown(lang):
                parts = markdown_to_parts(cleaned[f"body_{lang}"], lang)
                cleaned[f"html_{lang}"] = parts.html
                cleaned[f"text_{lang}"] = parts.text

    def clean(self):
        cleaned = super().clean()
        self._find_markdown_languages(cleaned)
        self._generate_from_markdown(cleaned)
        for name in ("subject_nl", "text_nl", "html_nl", "subject_en", "text_en", "html_en"):
            try:
                compile_template(cleaned.get(name) or "")
            except TemplateError as error:
                field = self._source_field(name)
                if field not in self.errors:
                    self.add_error(field, str(error))
        languages = [
            lang
            for lang in _LANGUAGES
            if (cleaned.get(f"subject_{lang}") or "").strip()
            and (cleaned.get(f"text_{lang}") or "").strip()
        ]
        for lang in _LANGUAGES:
            if lang in languages:
                continue
            if self._written_in_markdown(lang):
                self.add_error(
                    f"subject_{lang}", _("A mail text needs a subject in the same language.")
                )
            elif (cleaned.get(f"html_{lang}") or "").strip():
                self.add_error(
                    f"text_{lang}",
                    _("An HTML part needs a subject and a plain-text part in the same language."),
                )
        if not languages:
            raise forms.ValidationError(
                _("Fill in at least one language: a subject and a plain-text part.")
            )
        if not self.errors:
            self._check_answer_links(languages)
        return cleaned

    def _check_answer_links(self, languages: list[str]) -> None:
        """Yes and No links complete in every language, and right for the campaigns using it.

        A template that uses either link anywhere is a re-permission mail and
        needs both in every language. A template already chosen by a campaign
        that has not started must stay right for that campaign's mail class.
        """
        parts = {
            lang: tuple(self.cleaned_data.get(f"{part}_{lang}") or "" for part in _PARTS)
            for lang in languages
        }
        markdown = self._markdown_languages
        problems = []
        asks = parts_problems(parts, MailClass.MARKETING_OTHER)
        if asks:
            problems += parts_problems(parts, MailClass.REPERMISSION, markdown)
        if self.instance.pk:
            open_campaigns = self.instance.campaigns.filter(
                status__in=[CampaignStatus.DRAFT, CampaignStatus.SCHEDULED]
            ).order_by("id")
            for campaign in open_campaigns:
                problems += [
                    _("Campaign “%(campaign)s”: %(problem)s")
                    % {"campaign": campaign.name, "problem": problem}
                    for problem in parts_problems(parts, campaign.mail_class, markdown)
                    if problem not in problems
                ]
        for problem in dict.fromkeys(problems):
            self.add_error(None, problem)


_PARTS = ("subject", "html", "text")


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
            "categories",
            "segment",
            "template",
            "sending_domain",
            "from_name",
            "from_local",
            "fallback_language",
            "rate_limit",
            "rate_period",
            "deadline",
        ]
        # A date field shows and sends ISO dates (YYYY-MM-DD) whatever the
        # page's language; a value in the localised format ("24-12-2026")
        # leaves it empty, and saving then loses the deadline. Parsing accepts
        # ISO in every language.
        widgets = {
            "deadline": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "categories": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"].queryset = Purpose.objects.filter(is_active=True, is_marketing=True)
        # The model's relations carry no verbose names (that would need a
        # migration); the form names them in the page's language.
        self.fields["purpose"].label = _("Purpose")
        self.fields["template"].label = _("Template")
        self.fields["sending_domain"].label = _("Sending domain")
        self.fields["categories"].label = _("Product categories of the offer")
        self.fields["categories"].help_text = _(
            "Similar products only: the soft opt-in then covers only customers who bought in one "
            "of these categories (or a category similar to one) within the customer period. "
            "When none is chosen, any purchase in that period counts."
        )
        self.fields["segment"].label = _("Segment")
        self.fields["segment"].help_text = _(
            "Optional. Narrows the audience to the people in the segment; it never adds anyone "
            "who may not lawfully be mailed."
        )
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
        if mail_class != MailClass.MARKETING_SIMILAR:
            # Categories only narrow the soft opt-in, which only similar products use.
            cleaned["categories"] = []
        template = cleaned.get("template")
        if template is not None and mail_class:
            for problem in campaign_problems(template, mail_class):
                self.add_error("template", problem)
        return cleaned


class ScheduleForm(forms.Form):
    send_at = forms.DateTimeField(
        label=_("Send at (leave empty to send now)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def clean_send_at(self):
        value = self.cleaned_data.get("send_at")
        if value is not None and value < timezone.now():
            raise forms.ValidationError(_("This moment has passed. Leave empty to send now."))
        return value
