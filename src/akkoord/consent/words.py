"""What the ledger and the timeline hold, in plain words of the current language.

Proofs, timeline entries and actors are stored as the channels wrote them (keys
such as ``text_shown``, references such as ``form:1:v1``, ISO timestamps, an
English summary): that is the record and it does not change. A person (staff or
the data subject) reads them through these functions, which the staff pages, the
customer centre and the consent views share, so a key has one label everywhere.
Unknown keys and values are shown as they are: nothing in a proof is ever hidden.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from akkoord.consent.models import Channel, Purpose
from akkoord.consent.rules import EventKind
from akkoord.contacts.models import Activity, ActivityKind, ContactField, SourceKind

EVENT_LABELS = {
    EventKind.GRANTED: gettext_lazy("Consent given"),
    EventKind.CONFIRMED: gettext_lazy("Consent confirmed (double opt-in)"),
    EventKind.WITHDRAWN: gettext_lazy("Consent withdrawn"),
    EventKind.OBJECTED: gettext_lazy("Objection to all direct marketing"),
    EventKind.UNPROVEN: gettext_lazy("Consent recorded without proof"),
    EventKind.OBJECTION_LIFTED: gettext_lazy("Objection to direct marketing lifted"),
    EventKind.COMPLAINED: gettext_lazy(
        "Spam complaint (counts as withdrawal of every subscription)"
    ),
    EventKind.EXPIRED: gettext_lazy("Not confirmed in time: this sign-up lapsed"),
}

# Proof keys as the channels write them (sign-up form, import, API, staff,
# centre, unsubscribe, re-permission), each with one label.
PROOF_LABELS = {
    "ip": gettext_lazy("IP address"),
    "ip_address": gettext_lazy("IP address"),
    "user_agent": gettext_lazy("Browser (user agent)"),
    "text": gettext_lazy("Exact text shown"),
    "consent_text": gettext_lazy("Exact text shown"),
    "text_shown": gettext_lazy("Exact text shown"),
    "text_language": gettext_lazy("Language of the text"),
    "language": gettext_lazy("Language"),
    "privacy_statement_url": gettext_lazy("Privacy statement"),
    "privacy_statement_version": gettext_lazy("Privacy statement version"),
    "form": gettext_lazy("Form"),
    "form_id": gettext_lazy("Form number"),
    "form_key": gettext_lazy("Form"),
    "form_version": gettext_lazy("Form version"),
    "page": gettext_lazy("Page"),
    "url": gettext_lazy("Page"),
    "page_url": gettext_lazy("Page the form was sent from"),
    "submitted_at": gettext_lazy("Sent at"),
    "channel": gettext_lazy("Way in"),
    "file": gettext_lazy("Import file"),
    "file_name": gettext_lazy("Import file"),
    "filename": gettext_lazy("Import file"),
    "file_sha256": gettext_lazy("Import file fingerprint (SHA-256)"),
    "format": gettext_lazy("File format"),
    "row": gettext_lazy("Row in the import file"),
    "imported_by": gettext_lazy("Imported by"),
    "optin_time": gettext_lazy("Signed up at (according to the import file)"),
    "optin_ip": gettext_lazy("IP address at sign-up (according to the import file)"),
    "confirm_time": gettext_lazy("Confirmed at (according to the import file)"),
    "confirm_ip": gettext_lazy("IP address at confirmation (according to the import file)"),
    "staff_user": gettext_lazy("Entered by staff user"),
    "api_client": gettext_lazy("API client"),
    "api_key": gettext_lazy("API client"),
    "confirmed_ip": gettext_lazy("IP address at confirmation"),
    "confirmation_ip": gettext_lazy("IP address at confirmation"),
    "confirmed_user_agent": gettext_lazy("Browser at confirmation"),
    "confirmed_at": gettext_lazy("Confirmed at"),
    "confirmation_at": gettext_lazy("Confirmed at"),
    "campaign": gettext_lazy("Mailing"),
    "clicked_at": gettext_lazy("Clicked at"),
    "deadline": gettext_lazy("Deadline for an answer"),
    "message_id": gettext_lazy("Message ID of the mail"),
    "mail_subject": gettext_lazy("Mail"),
    "mail_text": gettext_lazy("Text of the mail"),
    "how": gettext_lazy("How"),
    "answer": gettext_lazy("Answer"),
    "note": gettext_lazy("Note"),
    "reason": gettext_lazy("Reason"),
}
# Keys whose value is a text in the language the person saw it in.
TEXT_KEYS = {"text", "consent_text", "text_shown", "mail_text", "mail_subject"}
HIDDEN_KEYS = {"nonce"}

# The values of "how" that Akkoord itself writes, in words.
HOW_TEXTS = {
    "phone": gettext_lazy("by phone"),
    "in person": gettext_lazy("in person"),
    "personal customer-centre link sent to the person's own address": gettext_lazy(
        "with the personal customer-centre link sent to the person's own address"
    ),
    "withdraw all consent": gettext_lazy("by withdrawing all consent at once"),
    "one-click": gettext_lazy("with one click in the mail program (List-Unsubscribe)"),
    "page": gettext_lazy("on the unsubscribe page"),
}
# The same, told to the person themselves (customer centre, their download).
HOW_TEXTS_TO_PERSON = {
    **HOW_TEXTS,
    "personal customer-centre link sent to the person's own address": gettext_lazy(
        "with the personal customer-centre link sent to your own address"
    ),
    "one-click": gettext_lazy("with one click in your mail program (List-Unsubscribe)"),
}
ANSWER_TEXTS = {"yes": gettext_lazy("Yes"), "no": gettext_lazy("No")}

FORM_REF = re.compile(r"^form:(\d+):v(\d+)$")
CAMPAIGN_REF = re.compile(r"^campaign:(\d+)$")
ISO_MOMENT = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)


@dataclass(frozen=True)
class ProofItem:
    label: str
    value: str
    # The language of a text shown to the person, so that pages can mark it.
    lang: str = ""


def language() -> str:
    return (get_language() or "nl")[:2]


def when(value: str | date | datetime) -> str:
    """A moment or a day as the current language writes it; any other text unchanged."""
    if isinstance(value, str):
        if not ISO_MOMENT.match(value):
            return value
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        value = parsed.date() if len(value) == 10 else parsed
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return date_format(value, "DATETIME_FORMAT")
    return date_format(value, "DATE_FORMAT")


def reference(value: str) -> str:
    """``form:1:v2`` and ``campaign:4`` by the name a person knows them by."""
    if match := FORM_REF.match(value):
        from akkoord.signup.models import SignupForm

        form = SignupForm.objects.filter(pk=match[1]).first()
        name = form.name if form else _("a form that no longer exists")
        return _("%(form)s (version %(version)s)") % {"form": name, "version": match[2]}
    if match := CAMPAIGN_REF.match(value):
        from akkoord.campaigns.models import Campaign

        campaign = Campaign.objects.filter(pk=match[1]).first()
        if campaign is None:
            return _("mailing number %(number)s") % {"number": match[1]}
        return _("mailing “%(name)s”") % {"name": campaign.name}
    return value


def proof_value(key: str, value, *, to_person: bool = False) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False, default=str)
    if key == "how":
        return str((HOW_TEXTS_TO_PERSON if to_person else HOW_TEXTS).get(value, value))
    if key == "answer":
        return str(ANSWER_TEXTS.get(value, value))
    if key == "channel" and value in Channel.values:
        return str(Channel(value).label)
    if key in ("form", "campaign") and value.isdigit():
        value = f"{key}:{value}" if key == "campaign" else value
    return reference(when(value))


def proof_items(data: dict | None, *, to_person: bool = False) -> list[ProofItem]:
    """A proof's details, labelled and in words, in the order they were written.

    ``to_person``: the reader is the person the proof is about (the customer centre).
    """
    data = data or {}
    text_language = str(data.get("text_language") or data.get("language") or "")[:2]
    items = []
    for key, value in data.items():
        if key in HIDDEN_KEYS or value in (None, ""):
            continue
        lang = text_language if key in TEXT_KEYS and text_language != language() else ""
        label = str(PROOF_LABELS.get(key, key))
        items.append(ProofItem(label, proof_value(key, value, to_person=to_person), lang))
    return items


def event_label(kind: str) -> str:
    return str(EVENT_LABELS.get(kind, kind))


def channel_label(channel: str) -> str:
    return str(Channel(channel).label) if channel in Channel.values else reference(channel)


def _purpose_name(key: str | None) -> str:
    if not key:
        return _("all direct marketing")
    purpose = Purpose.objects.filter(key=key).first()
    return purpose.name(language()) if purpose else key


def field_names(changed: list[str]) -> str:
    fields = {f"fields.{f.key}": f.label(language()) for f in ContactField.objects.all()}
    builtin = {
        "email": _("e-mail address"),
        "first_name": _("first name"),
        "last_name": _("last name"),
        "language": _("language"),
    }
    return ", ".join(fields.get(key) or builtin.get(key) or key for key in changed)


def describe(activity: Activity) -> str:
    """One timeline entry in plain words of the current language."""
    data = activity.data or {}
    kind = activity.kind
    if kind == ActivityKind.CONSENT:
        return f"{event_label(data.get('event', ''))}: {_purpose_name(data.get('purpose'))}"
    if kind == ActivityKind.CREATED:
        source = data.get("source", "")
        label = str(SourceKind(source).label) if source in SourceKind.values else source
        detail = reference(str(data.get("detail") or ""))
        return f"{label}: {detail}" if detail else label
    if kind == ActivityKind.CHANGED:
        changes = sorted((data.get("changes") or {}).keys())
        return _("Changed: %(fields)s") % {"fields": field_names(changes)}
    if kind == ActivityKind.PURCHASE and data.get("purchased_on"):
        text = _("Purchase on %(day)s") % {"day": when(str(data["purchased_on"]))}
        return f"{text}: {data['description']}" if data.get("description") else text
    if kind == ActivityKind.EXPORT:
        return _("Data downloaded (%(format)s)") % {"format": str(data.get("format", "")).upper()}
    if kind == ActivityKind.REQUEST and data.get("request"):
        return _("Erasure requested")
    return activity.summary


def foreign_language(activity: Activity) -> str:
    """The language of a mail entry when it is not the page's (so the page can mark it), else ""."""
    mail_language = str((activity.data or {}).get("language") or "")[:2]
    if activity.kind == ActivityKind.MAIL and mail_language and mail_language != language():
        return mail_language
    return ""


def actor_label(actor: str) -> str:
    """Who did it, as a person reads it (an e-mail address or API client stays as it is)."""
    known = {
        "system": _("Akkoord (automatic)"),
        "demo": _("Demo data"),
        "the person (customer centre)": _("The person, in the customer centre"),
        "test": _("Test"),
    }
    if actor in known:
        return known[actor]
    if actor in Channel.values:
        return str(Channel(actor).label)
    return reference(actor)
