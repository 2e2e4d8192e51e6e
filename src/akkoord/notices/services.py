"""Sending the privacy confirmation mail (DOMAIN §4, seed 000).

Sent automatically once, when a person is first registered through a channel
the organisation enabled (``NoticeSettings``), and on demand by a staff user
from the contact's page. Every mail is archived on the contact's timeline by
``send_service_mail`` and sets ``Contact.informed_at``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from akkoord.consent.models import ConsentProof, ConsentState
from akkoord.consent.rules import ConsentStatus
from akkoord.contacts.emails import normalise_email
from akkoord.contacts.models import (
    Activity,
    ActivityKind,
    Contact,
    ContactFieldValue,
    DataCategory,
)
from akkoord.lib import tokens
from akkoord.mail.outgoing import SentMail, send_service_mail
from akkoord.notices import defaults
from akkoord.notices.models import NoticeSettings, NoticeTemplate
from akkoord.notices.rendering import render_notice
from akkoord.organisation.models import Organisation

logger = logging.getLogger(__name__)

# Predicates that say "this person is not registered yet" (e.g. a sign-up
# waiting for its double opt-in): the automatic mail waits for them.
_deferrals: list[Callable[[Contact], bool]] = []


def register_deferral(fn: Callable[[Contact], bool]) -> Callable[[Contact], bool]:
    if fn not in _deferrals:
        _deferrals.append(fn)
    return fn


def default_template() -> NoticeTemplate:
    """The template used for automatic sending, created with the stock texts if missing."""
    template = NoticeTemplate.objects.filter(is_default=True).order_by("pk").first()
    if template is None:
        template = NoticeTemplate.objects.order_by("pk").first()
    if template is None:
        template = NoticeTemplate.objects.create(
            name=_("Standard privacy confirmation"),
            is_default=True,
            subject_nl=defaults.SUBJECT_NL,
            body_nl=defaults.BODY_NL,
            subject_en=defaults.SUBJECT_EN,
            body_en=defaults.BODY_EN,
        )
    return template


# --- the customer-centre link ----------------------------------------------


def centre_url(contact: Contact) -> str:
    token = tokens.make_token(tokens.CENTRE, contact)
    return settings.AKKOORD_BASE_URL + "/centre/" + token + "/"


def centre_link_valid(token: str) -> bool:
    """Whether a centre link from a privacy confirmation still opens the centre."""
    days = Organisation.current().centre_link_days
    try:
        tokens.contact_for_token(tokens.CENTRE, token, max_age=timedelta(days=days))
    except tokens.InvalidToken:
        return False
    return True


# --- what the mail says -------------------------------------------------------


def filled_categories(contact: Contact) -> list[str]:
    """The data categories actually held for this person (values, as keys)."""
    found = {DataCategory.CONTACT}
    if contact.first_name or contact.last_name:
        found.add(DataCategory.IDENTITY)
    if contact.organisation_name:
        found.add(DataCategory.PROFESSIONAL)
    found.update(
        ContactFieldValue.objects.filter(contact=contact)
        .exclude(value="")
        .values_list("field__category", flat=True)
    )
    if contact.purchases.exists():
        found.add(DataCategory.PURCHASES)
    if ConsentState.objects.filter(contact=contact).exists():
        found.add(DataCategory.PREFERENCES)
    if ConsentProof.objects.filter(subject_key=contact.ledger_key, data__has_key="ip").exists():
        found.add(DataCategory.TECHNICAL)
    if Activity.objects.filter(contact=contact, kind=ActivityKind.MAIL).exists():
        found.add(DataCategory.COMMUNICATION)
    return [value for value in DataCategory.values if value in found]


def _purposes(contact: Contact, language: str) -> list[str]:
    states = (
        ConsentState.objects.filter(
            contact=contact,
            status__in=[ConsentStatus.GRANTED, ConsentStatus.PENDING, ConsentStatus.UNPROVEN],
        )
        .select_related("purpose")
        .order_by("purpose__position", "purpose__key")
    )
    names = [state.purpose.name(language) for state in states]
    if contact.is_customer:
        names.append(_("Offers of products and services like the ones you bought from us"))
    return names


def notice_context(contact: Contact, language: str, *, today: date | None = None) -> dict:
    """The only values a privacy confirmation template can show (plain strings)."""
    organisation = Organisation.current()
    days = organisation.centre_link_days
    today = today or timezone.localdate()
    with translation.override(language):
        labels = dict(DataCategory.choices)
        return {
            "organisation_name": organisation.name,
            "organisation_email": organisation.contact_email or organisation.dpo_email,
            "categories": [str(labels[value]) for value in filled_categories(contact)],
            "purposes": [str(name) for name in _purposes(contact, language)],
            "centre_url": centre_url(contact),
            "centre_valid_days": str(days),
            "centre_valid_until": formats.date_format(today + timedelta(days=days), "DATE_FORMAT"),
            "privacy_statement_url": organisation.privacy_statement_url,
        }


def addresses_for(contact: Contact) -> list[str]:
    """The person's own addresses: the main one, then any address held in a field.

    Staff choose among these; the mail carries a link into the person's data,
    so it never goes to an address typed in freely.
    """
    found = [contact.email]
    for value in ContactFieldValue.objects.filter(contact=contact, value__contains="@"):
        try:
            address = normalise_email(value.value)
        except ValidationError:
            continue
        if address not in found:
            found.append(address)
    return found


def render_for(contact: Contact, template: NoticeTemplate, language: str) -> tuple[str, str, str]:
    return render_notice(
        template.subject(language), template.body(language), notice_context(contact, language)
    )


def send_privacy_confirmation(
    contact: Contact,
    *,
    to: str | None = None,
    template: NoticeTemplate | None = None,
    language: str | None = None,
    subject: str | None = None,
    actor: str = "system",
) -> SentMail:
    """Send (or resend) the privacy confirmation and mark the person informed.

    ``to`` must be one of ``addresses_for(contact)``; ``subject`` replaces the
    template's subject when given. Raises ValidationError for a bad choice and
    lets delivery errors through (the caller decides).
    """
    language = language or contact.language
    if language not in ("nl", "en"):
        raise ValidationError({"language": _("Choose Dutch or English.")})
    address = to or contact.email
    if address not in addresses_for(contact):
        raise ValidationError({"to": _("Choose one of this person's own addresses.")})
    template = template or default_template()
    rendered_subject, text, html = render_for(contact, template, language)
    if subject is not None and subject.strip():
        rendered_subject = subject
    sent = send_service_mail(
        to=address,
        subject=rendered_subject,
        text=text,
        html=html,
        contact=contact,
        template=f"privacy-confirmation:{template.pk}",
        language=language,
        actor=actor,
    )
    now = timezone.now()
    Contact.objects.filter(pk=contact.pk).update(informed_at=now)
    contact.informed_at = now
    return sent


# --- automatic sending --------------------------------------------------------

# How long a worker's claim on sending one automatic confirmation holds.
INFORM_CLAIM = timedelta(minutes=10)


def send_automatically(contact_id: int, channel: str) -> bool:
    """Send the mail once for a first registration; True if it was sent now.

    A worker first claims the contact with one conditional UPDATE (no lock is
    held during the SMTP conversation: on SQLite that would stop every other
    writer, the local mail catcher included), so two workers that got the same
    registration (a retried task, an import and its signal) send one mail. If
    delivery fails the claim is given back and the error raised, so the task
    can be retried; a claim left by a crashed worker expires after
    ``INFORM_CLAIM``, and until then the person still counts as not informed.
    """
    if not NoticeSettings.current().sends_for(channel):
        return False
    now = timezone.now()
    claimed = (
        Contact.objects.filter(pk=contact_id, informed_at__isnull=True)
        .filter(Q(informing_since__isnull=True) | Q(informing_since__lt=now - INFORM_CLAIM))
        .update(informing_since=now)
    )
    if not claimed:
        return False
    contact = Contact.objects.filter(pk=contact_id).first()
    if contact is None:  # erased in between
        return False
    try:
        send_privacy_confirmation(contact, actor="system")
    finally:
        Contact.objects.filter(pk=contact_id, informing_since=now).update(informing_since=None)
    logger.info("privacy confirmation sent for contact %s (channel %s)", contact.pk, channel)
    return True


def on_contact_registered(sender, *, contact: Contact, channel: str, **kwargs) -> None:
    """Listener of ``contact_registered``: queue the mail unless the person must confirm first."""
    if any(deferral(contact) for deferral in _deferrals):
        return
    queue_privacy_confirmation(contact, channel)


def on_contacts_registered(sender, *, contact_ids: list[int], channel: str, **kwargs) -> None:
    """Listener of ``contacts_registered`` (imports): queue the mails in batches of tasks.
    No deferral applies: the contacts are new, so none waits on a sign-up confirmation."""
    queue_privacy_confirmations(contact_ids, channel)


def queue_privacy_confirmation(contact: Contact, channel: str) -> None:
    """Queue the automatic mail (a task, so registration never waits for SMTP)."""
    from akkoord.notices.tasks import send_privacy_confirmation_task

    if not NoticeSettings.current().sends_for(channel):
        return
    send_privacy_confirmation_task.enqueue(contact.pk, str(channel))


def queue_privacy_confirmations(contact_ids: list[int], channel: str, batch: int = 500) -> None:
    """For bulk registrations (``contacts_registered``): queue the automatic mail
    for each new contact, in batches of tasks."""
    from akkoord.notices.tasks import send_privacy_confirmations_task

    if not NoticeSettings.current().sends_for(channel):
        return
    ids = [int(pk) for pk in contact_ids]
    for start in range(0, len(ids), batch):
        send_privacy_confirmations_task.enqueue(ids[start : start + batch], str(channel))


# --- the one-month limit (GDPR art. 14(3)) -------------------------------------


def add_one_month(day: date) -> date:
    year, month = divmod(day.year * 12 + day.month, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def inform_deadline(contact: Contact) -> date:
    return add_one_month(timezone.localtime(contact.created_at).date())


def uninformed(limit: int = 10) -> tuple[int, list[dict]]:
    """How many people were never informed, and the most urgent few with days left."""
    queryset = Contact.objects.filter(informed_at__isnull=True)
    total = queryset.count()
    today = timezone.localdate()
    rows = []
    for contact in queryset.order_by("created_at", "pk")[:limit]:
        deadline = inform_deadline(contact)
        rows.append(
            {
                "contact": contact,
                "deadline": deadline,
                "days_left": (deadline - today).days,
                "overdue": max(0, (today - deadline).days),
                "art14": not contact.collected_from_person,
            }
        )
    return total, rows
