"""Sending the privacy confirmation mail (GDPR art. 13/14: tell the person what is kept and why).

Sent automatically once, when a person is first registered through a channel
the organisation enabled (``NoticeSettings``), and on demand by a staff user
from the contact's page. Every mail is archived on the contact's timeline by
``send_service_mail`` and sets ``Contact.informed_at``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
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
    SourceKind,
)
from akkoord.lib import tokens
from akkoord.lib.db import retry_when_locked
from akkoord.mail.outgoing import SentMail, send_service_mail
from akkoord.notices import defaults
from akkoord.notices.models import NoticeSettings, NoticeTemplate, QueuedNotice
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


def is_deferred(contact: Contact) -> bool:
    """Whether the automatic mail must wait for this person (see ``register_deferral``)."""
    return any(deferral(contact) for deferral in _deferrals)


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


def greeting_name(contact: Contact) -> str:
    """The first name to greet the person by, or "" to greet without a name.

    Only a name the organisation itself recorded (staff, an import, its own
    systems through the API) is used. A name typed into a public sign-up form is
    not: anyone can sign up someone else's address, and the mail must not carry
    words a stranger chose to that address.
    """
    if contact.source_kind == SourceKind.FORM:
        return ""
    return contact.first_name


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
            "first_name": greeting_name(contact),
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


# --- the notice queue (bulk registrations) ------------------------------------

# How long one worker may hold a queued notice while it sends it; a worker that
# dies holding it lets it go when the lease ends.
NOTICE_LEASE = timedelta(minutes=10)
# Pause after the n-th failed attempt: 1, 2, 4, ... minutes, at most 6 hours.
RETRY_FIRST = timedelta(minutes=1)
RETRY_LONGEST = timedelta(hours=6)
DELIVERY_BATCH = 500


def queue_notices(contact_ids: list[int], channel: str) -> int:
    """Put a privacy confirmation for each contact in the notice queue.

    Runs in the caller's transaction (an import chunk), so the queue holds a
    row for every contact that was committed, and for no other. Queuing a
    contact twice keeps one row. Call ``notices.tasks.schedule_delivery`` once
    the work that queued is over. Returns how many were queued.
    """
    if not contact_ids or not NoticeSettings.current().sends_for(channel):
        return 0
    now = timezone.now()
    if connection.vendor == "postgresql":
        _queue_in_one_statement([int(pk) for pk in contact_ids], str(channel), now)
        return len(contact_ids)
    QueuedNotice.objects.bulk_create(
        [
            QueuedNotice(contact_id=int(pk), channel=str(channel), next_attempt_at=now)
            for pk in contact_ids
        ],
        ignore_conflicts=True,
    )
    return len(contact_ids)


def _queue_in_one_statement(contact_ids: list[int], channel: str, now: datetime) -> None:
    """``queue_notices`` on PostgreSQL: one INSERT ... SELECT over the array of ids.

    An import queues a notice per new contact, thousands per chunk; building
    a model instance and a parameter per row for ``bulk_create`` cost several
    times more than this statement.
    """
    meta = QueuedNotice._meta
    qn = connection.ops.quote_name
    columns = ", ".join(
        qn(meta.get_field(name).column)
        for name in ("contact", "channel", "queued_at", "attempts", "next_attempt_at", "last_error")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            # Names from the model's metadata; the values are parameters.
            f"INSERT INTO {qn(meta.db_table)} ({columns}) "  # noqa: S608
            "SELECT id, %s, %s, 0, %s, '' FROM unnest(%s::bigint[]) AS id "
            f"ON CONFLICT ({qn(meta.get_field('contact').column)}) DO NOTHING",
            [channel, now, now, contact_ids],
        )


@dataclass
class DeliveryRound:
    sent: int = 0
    not_needed: int = 0
    failed: int = 0
    # When the next queued notice is due (None: the queue is empty).
    next_due: datetime | None = None


def retry_pause(attempts: int) -> timedelta:
    return min(RETRY_FIRST * 2 ** max(attempts - 1, 0), RETRY_LONGEST)


def deliver_queued_notices(
    *, now: datetime | None = None, limit: int = DELIVERY_BATCH
) -> DeliveryRound:
    """Send up to ``limit`` due notices from the queue.

    Each notice is first claimed with a conditional UPDATE that pushes it a
    lease ahead (so two workers never send the same one, and one that dies
    mid-send gives it back when the lease ends); it is removed once sent or
    no longer needed (the person was informed already, or erased), and after
    a failure it waits ``retry_pause(attempts)`` before the next try.
    """
    now = now or timezone.now()
    result = DeliveryRound()
    due = list(
        QueuedNotice.objects.filter(next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", "contact_id", "channel", "attempts", "next_attempt_at")[:limit]
    )
    for pk, contact_id, channel, attempts, due_at in due:
        claimed = retry_when_locked(
            lambda pk=pk, due_at=due_at: QueuedNotice.objects.filter(
                pk=pk, next_attempt_at=due_at
            ).update(next_attempt_at=now + NOTICE_LEASE)
        )
        if not claimed:
            continue  # another worker has it
        try:
            sent = send_automatically(contact_id, channel)
        except Exception as error:  # noqa: BLE001 - any failure: try again later
            result.failed += 1
            retry_when_locked(
                lambda pk=pk, attempts=attempts, error=error: QueuedNotice.objects.filter(
                    pk=pk
                ).update(
                    attempts=attempts + 1,
                    next_attempt_at=timezone.now() + retry_pause(attempts + 1),
                    last_error=_describe(error),
                )
            )
            continue
        retry_when_locked(lambda pk=pk: QueuedNotice.objects.filter(pk=pk).delete())
        if sent:
            result.sent += 1
        else:
            result.not_needed += 1
    first = QueuedNotice.objects.order_by("next_attempt_at").values_list(
        "next_attempt_at", flat=True
    )
    result.next_due = first.first()
    if result.failed or result.sent:
        logger.info(
            "privacy confirmations from the queue: %d sent, %d failed (tried again later)",
            result.sent,
            result.failed,
        )
    return result


def _describe(error: Exception) -> str:
    """An error's type and SMTP code: never its text, which may hold the address."""
    code = getattr(error, "smtp_code", None)
    return f"{type(error).__name__}" + (f" (SMTP {code})" if code else "")


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
