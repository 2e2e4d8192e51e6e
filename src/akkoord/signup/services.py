"""Signing up (hosted form, embed, API), confirming (double opt-in), expiring.

Every way in calls ``sign_up``: the rate limits, the validation and the proof
are the same whether the person used the hosted page, the embed on another
website or an API client. Bot checks that need a rendered form (honeypot,
timing) live in ``signup.guards`` and are applied by the form views.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from akkoord.consent.ledger import record_event
from akkoord.consent.models import ConsentEvent, ConsentState, Purpose
from akkoord.consent.rules import ConsentStatus, EventKind
from akkoord.contacts.emails import normalise_email
from akkoord.contacts.models import Contact
from akkoord.contacts.services import CORE_FIELDS, register_contact
from akkoord.lib import ratelimit
from akkoord.lib.text import without_control_characters
from akkoord.signup.models import FormVersion, PendingSignup

logger = logging.getLogger(__name__)

CHANNELS = ("form", "api")


def _limit(name: str, default: tuple[int, int]) -> tuple[int, int]:
    value = getattr(settings, name, None)
    return tuple(value) if value else default


# (hits, seconds). Settings of the same name override them.
def ip_limits() -> list[tuple[int, int]]:
    return [
        _limit("AKKOORD_SIGNUP_IP_PER_MINUTE", (10, 60)),
        _limit("AKKOORD_SIGNUP_IP_PER_HOUR", (60, 3600)),
    ]


def address_limit() -> tuple[int, int]:
    return _limit("AKKOORD_SIGNUP_ADDRESS_LIMIT", (3, 600))


def mail_window() -> int:
    """At most one confirmation mail per address within this many seconds."""
    return int(getattr(settings, "AKKOORD_SIGNUP_MAIL_WINDOW", 900))


def global_mail_limit() -> tuple[int, int]:
    return _limit("AKKOORD_SIGNUP_MAILS_PER_HOUR", (500, 3600))


class SignupError(Exception):
    """Base of the errors ``sign_up`` raises; ``message`` is safe to show the person."""

    message = ""


class SignupInvalid(SignupError):
    """The data does not pass: ``errors`` maps field names to lists of messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("invalid sign-up")
        self.errors = errors
        self.message = _("Please correct the marked fields.")


class SignupRefused(SignupError):
    """A limit tripped (``code``: rate_ip, rate_address, busy, closed)."""

    def __init__(self, code: str, message: str, retry_after: int = 0):
        super().__init__(code)
        self.code = code
        self.message = message
        self.retry_after = retry_after


class InvalidConfirmation(Exception):
    """The confirmation link is unknown, used or expired (deliberately not said which)."""


@dataclass
class SignupResult:
    pending: PendingSignup | None
    created_contact: bool
    new_grants: list[int] = field(default_factory=list)
    mail_sent: bool = False
    mail_failed: bool = False


def request_text(value, limit: int) -> str:
    """A value the browser sent about itself (user agent, page address), fit for the proof.

    Control characters are dropped: they are never part of a real user agent
    or URL, and PostgreSQL cannot store a NUL in a JSON document.
    """
    if not isinstance(value, str):
        return ""
    return without_control_characters(value)[:limit]


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_ip(ip: str) -> None:
    for limit, window in ip_limits():
        if not ratelimit.hit(f"signup-ip-{window}", ip or "unknown", limit=limit, window=window):
            raise SignupRefused(
                "rate_ip",
                _(
                    "Too many sign-ups came from your network just now. "
                    "Please wait a few minutes and try again."
                ),
                retry_after=window,
            )


def _check_address(email: str) -> None:
    limit, window = address_limit()
    if not ratelimit.hit("signup-address", email, limit=limit, window=window):
        raise SignupRefused(
            "rate_address",
            _(
                "This address was signed up several times in a short while. "
                "Please use the confirmation e-mail you already received, or try again later."
            ),
            retry_after=window,
        )


def clean_signup_data(version: FormVersion, data: dict) -> tuple[dict, list[str]]:
    """Validate ``data`` against ``version``; returns (contact data, ticked purpose keys).

    Purposes not on this version are ignored: a box the person was never shown
    can never become a consent.
    """
    if not isinstance(data, dict):
        raise SignupInvalid({"__all__": [_("Send the sign-up as an object of fields.")]})
    errors: dict[str, list[str]] = {}
    allowed = {spec["key"]: spec for spec in version.fields}
    contact_data: dict = {"email": data.get("email"), "language": version.language}
    custom: dict = {}
    raw_custom = data.get("fields") or {}
    if not isinstance(raw_custom, dict):
        errors["fields"] = [_("Must be an object of field names and values.")]
        raw_custom = {}
    for key in data:
        if key not in allowed and key not in ("email", "fields", "purposes", "language"):
            errors.setdefault(key, []).append(_("This form does not ask for this field."))
    for key in raw_custom:
        if key not in allowed or key in CORE_FIELDS:
            errors.setdefault(key, []).append(_("This form does not ask for this field."))
    for key, spec in allowed.items():
        value = data.get(key) if key in CORE_FIELDS else raw_custom.get(key)
        if value is None and key in data and key not in CORE_FIELDS:
            value = data.get(key)
        if value is not None and not isinstance(value, str):
            value = str(value) if isinstance(value, int | float) else value
        if spec.get("required") and (
            value is None or (isinstance(value, str) and not value.strip())
        ):
            errors.setdefault(key, []).append(_("This field is required."))
            continue
        if value is None or value == "":
            continue
        if key in CORE_FIELDS:
            contact_data[key] = value
        else:
            custom[key] = value
    if custom:
        contact_data["fields"] = custom
    if data.get("language"):
        contact_data["language"] = data["language"]
    try:
        from akkoord.contacts.services import clean_contact_data

        clean_contact_data(contact_data)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name.removeprefix("fields."), []).extend(messages)
    raw_purposes = data.get("purposes") or []
    if isinstance(raw_purposes, str):
        raw_purposes = [raw_purposes]
    if not isinstance(raw_purposes, list | tuple):
        errors.setdefault("purposes", []).append(_("Must be a list of purposes."))
        raw_purposes = []
    on_form = version.purpose_by_key()
    ticked = [key for key in dict.fromkeys(raw_purposes) if isinstance(key, str) and key in on_form]
    if not ticked and "purposes" not in errors:
        errors["purposes"] = [_("Tick at least one box to sign up.")]
    if errors:
        raise SignupInvalid(errors)
    return contact_data, ticked


def sign_up(
    form_version: FormVersion,
    data: dict,
    *,
    ip: str,
    user_agent: str,
    page_url: str,
    channel: str = "form",
) -> SignupResult:
    """Sign a person up through ``form_version`` with double opt-in.

    ``data``: ``{"email": str, <core field>: str, "fields": {<contact field key>: value},
    "purposes": [<purpose key>, ...], "language": "nl"|"en" (optional, default the
    form's)}``; only fields on the version are accepted
    (others are a SignupInvalid), purposes not on the version are ignored, at
    least one purpose on the version must be ticked. ``ip``, ``user_agent`` and
    ``page_url`` describe the person's request (for the API: what the client
    reports about its user, else the client's own request); they go into the
    consent proof. ``channel`` is "form" or "api".

    Finds the contact by address or creates it (an existing contact's data is
    never changed by a sign-up), records a granted consent pending confirmation
    per newly ticked purpose, with proof, and sends at most one confirmation
    mail per address per ``mail_window()``. Purposes the person already has a
    confirmed consent for are left alone.

    Raises ``SignupInvalid`` (``.errors`` by field) or ``SignupRefused``
    (``.code``, ``.message``, ``.retry_after``; rate limits per IP, per address,
    and a global cap on confirmation mails). On success returns a
    ``SignupResult``; callers must answer every success alike (whether or not a
    mail went out, whether or not the address was known).
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown sign-up channel {channel!r}")
    _check_form_open(form_version)
    _check_ip(ip)
    contact_data, ticked = clean_signup_data(form_version, data)
    _check_address(normalise_email(contact_data["email"]))
    submission = _Submission(
        form_version, ticked, ip=ip, user_agent=user_agent, page_url=page_url, channel=channel
    )

    with transaction.atomic():
        contact, created = _register_and_lock_contact(submission, contact_data)
        outcome = _record_ticked_purposes(submission, contact)
        pending = _pending_signup(submission, contact, created, outcome)
        token = _claim_mail_and_token(pending, contact, submission.now)

    result = SignupResult(
        pending=pending, created_contact=created, new_grants=[g["seq"] for g in outcome.grants]
    )
    if token is not None:
        _send_confirmation(result, contact, token)
    return result


@dataclass
class _Submission:
    """A sign-up that passed the checks, with what its consent proof needs."""

    form_version: FormVersion
    ticked: list[str]  # purpose keys on the form version, in the order sent
    ip: str
    user_agent: str
    page_url: str
    channel: str
    now: datetime = field(init=False)
    privacy_url: str = field(init=False)
    privacy_version: str = field(init=False)

    def __post_init__(self) -> None:
        # Stamped once: every grant of this sign-up has the same time and statement.
        self.now = timezone.now()
        self.privacy_url, self.privacy_version = self.form_version.privacy_statement()


@dataclass
class _Outcome:
    """What a sign-up did with the ticked purposes."""

    open_pendings: list[PendingSignup]  # the contact's open sign-ups, newest first
    open_seqs: set[int]  # the grants those open sign-ups wait to have confirmed
    grants: list[dict] = field(default_factory=list)  # newly recorded: {"purpose", "seq"}
    waiting: bool = False  # a ticked purpose already waits for an open sign-up


class _Step(Enum):
    LEAVE = "leave"
    WAIT = "wait"
    RECORD = "record"


def _check_form_open(form_version: FormVersion) -> None:
    if not form_version.form.is_published or form_version.published_at is None:
        raise SignupRefused("closed", _("This form is not open for sign-ups."))


def _register_and_lock_contact(submission: _Submission, contact_data: dict) -> tuple[Contact, bool]:
    """The contact of this address, created if new, its row locked; and whether it was new."""
    contact, created = register_contact(
        contact_data,
        source_kind=submission.channel,
        source_detail=submission.form_version.channel_ref,
        actor=submission.channel,
        existing_ok=True,
    )
    return Contact.objects.select_for_update().get(pk=contact.pk), created


def _record_ticked_purposes(submission: _Submission, contact: Contact) -> _Outcome:
    """Per ticked purpose that is still active: leave it, note it waits, or record a grant."""
    on_form = submission.form_version.purpose_by_key()
    purposes = {
        p.pk: p
        for p in Purpose.objects.filter(
            pk__in=[on_form[key]["id"] for key in submission.ticked], is_active=True
        )
    }
    states = {
        s.purpose_id: s for s in ConsentState.objects.filter(contact=contact, purpose__in=purposes)
    }
    open_pendings = list(
        PendingSignup.objects.filter(
            contact=contact, confirmed_at__isnull=True, expires_at__gt=submission.now
        ).order_by("-created_at")
    )
    outcome = _Outcome(
        open_pendings=open_pendings,
        open_seqs={grant["seq"] for p in open_pendings for grant in p.grants},
    )
    for key in submission.ticked:
        snapshot = on_form[key]
        purpose = purposes.get(snapshot["id"])
        if purpose is None:
            continue
        step = _step_for(states.get(purpose.pk), outcome.open_seqs)
        if step is _Step.WAIT:
            outcome.waiting = True
        elif step is _Step.RECORD:
            event = _record_grant(submission, contact, purpose, snapshot["text"])
            outcome.grants.append({"purpose": purpose.pk, "seq": event.seq})
    return outcome


def _step_for(state: ConsentState | None, open_seqs: set[int]) -> _Step:
    if state is not None and state.status == ConsentStatus.GRANTED:
        return _Step.LEAVE  # already confirmed: a stranger must not turn it back to pending
    if state is not None and state.status == ConsentStatus.PENDING and state.grant_seq in open_seqs:
        return _Step.WAIT
    return _Step.RECORD


def _record_grant(
    submission: _Submission, contact: Contact, purpose: Purpose, consent_text: str
) -> ConsentEvent:
    """A granted consent that needs the person's confirmation, with the proof of the sign-up."""
    return record_event(
        contact,
        purpose,
        EventKind.GRANTED,
        channel=submission.channel,
        channel_ref=submission.form_version.channel_ref,
        needs_confirmation=True,
        privacy_statement_version=submission.privacy_version,
        occurred_at=submission.now,
        proof=_grant_proof(submission, consent_text),
    )


def _grant_proof(submission: _Submission, consent_text: str) -> dict:
    version = submission.form_version
    return {
        "ip": request_text(submission.ip, 45),
        "user_agent": request_text(submission.user_agent, 500),
        "page_url": request_text(submission.page_url, 1000),
        "form_id": version.form.pk,
        "form_version": version.number,
        "consent_text": consent_text,
        "text_language": version.language,
        "privacy_statement_url": submission.privacy_url,
        "submitted_at": submission.now.isoformat(),
        "channel": submission.channel,
    }


def _pending_signup(
    submission: _Submission, contact: Contact, created: bool, outcome: _Outcome
) -> PendingSignup | None:
    """A new pending sign-up for the new grants; with none, but a ticked purpose waiting,
    the newest open sign-up that has grants waiting (its link is the one to mail again)."""
    if outcome.grants:
        return PendingSignup.objects.create(
            contact=contact,
            form_version=submission.form_version,
            channel=submission.channel,
            grants=outcome.grants,
            created_contact=created,
            created_at=submission.now,
            expires_at=submission.now + timedelta(days=submission.form_version.expiry_days),
        )
    if outcome.waiting:
        return next(
            (
                p
                for p in outcome.open_pendings
                if any(g["seq"] in outcome.open_seqs for g in p.grants)
            ),
            None,
        )
    return None


def _claim_mail_and_token(
    pending: PendingSignup | None, contact: Contact, now: datetime
) -> str | None:
    """A fresh confirmation token if a mail may go out now (its digest replaces the old one)."""
    if pending is None or not _may_mail(contact, now):
        return None
    token = secrets.token_urlsafe(32)
    pending.token_hash = token_digest(token)
    pending.save(update_fields=["token_hash"])
    return token


def _send_confirmation(result: SignupResult, contact: Contact, token: str) -> None:
    """Send the mail after the commit; notes in ``result`` whether it went out."""
    pending = result.pending
    try:
        send_confirmation_mail(pending, token)
    except Exception:  # noqa: BLE001 - any delivery failure: let the person retry
        logger.exception("confirmation mail for pending sign-up %s failed", pending.pk)
        result.mail_failed = True
    else:
        # Marked only now: a crash before or during the send leaves it
        # unmarked, so the person's retry sends the mail again.
        PendingSignup.objects.filter(pk=pending.pk).update(mail_sent_at=timezone.now())
        result.mail_sent = True
    finally:
        _release_mail(contact)


def _may_mail(contact: Contact, now: datetime) -> bool:
    """One confirmation mail per address per window, and a cap on all of them.

    Called with the contact's row locked. A mail counts once it was sent
    (``mail_sent_at``); one being sent right now by another request holds the
    contact's sending claim, so a double submission sends one mail, not two
    with the first link already replaced.
    """
    since = now - timedelta(seconds=mail_window())
    if PendingSignup.objects.filter(contact=contact, mail_sent_at__gte=since).exists():
        return False
    if not _claim_mail(contact):
        return False
    limit, window = global_mail_limit()
    if not ratelimit.hit("signup-mail-all", "all", limit=limit, window=window):
        logger.warning("global cap on confirmation mails reached; sign-up recorded without mail")
        _release_mail(contact)
        return False
    return True


def _mail_claim_key(contact: Contact) -> str:
    return f"signup-mail-sending:{contact.pk}"


def _this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _claim_mail(contact: Contact) -> bool:
    """Claim the sending of this contact's confirmation mail for this process.

    The claim lasts at most as long as a send may take. A claim left by a
    process of this machine that no longer runs (killed during the send) is
    taken over at once, so the person's retry sends the mail; one of another
    machine runs out after that time.
    """
    key = _mail_claim_key(contact)
    timeout = int(settings.EMAIL_TIMEOUT) + 30
    if cache.add(key, _this_process(), timeout=timeout):
        return True
    holder = cache.get(key)
    if holder is None or _holder_is_gone(holder):
        cache.set(key, _this_process(), timeout=timeout)
        return True
    return False


def _holder_is_gone(holder: str) -> bool:
    host, _sep, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, under another user
    return False


def _release_mail(contact: Contact) -> None:
    cache.delete(_mail_claim_key(contact))


def confirm_url(token: str) -> str:
    return f"{settings.AKKOORD_BASE_URL}/f/confirm/{token}/"


def send_confirmation_mail(pending: PendingSignup, token: str):
    """The double opt-in mail: only texts staff wrote, never what the person typed."""
    from akkoord.mail.outgoing import render_mail, send_service_mail
    from akkoord.organisation.models import Organisation

    version = pending.form_version
    by_id = {p["id"]: p for p in version.purposes}
    context = {
        "organisation_name": Organisation.current().name,
        "purposes": [by_id[g["purpose"]]["name"] for g in pending.grants if g["purpose"] in by_id],
        "confirm_url": confirm_url(token),
        "expires_on": timezone.localtime(pending.expires_at).date(),
    }
    subject, text, html = render_mail("signup/mail/confirm", context, version.language)
    return send_service_mail(
        to=pending.contact.email,
        subject=subject,
        text=text,
        html=html,
        contact=pending.contact,
        template="signup-confirmation",
        language=version.language,
        actor="system",
    )


def open_pending_for_token(token: str) -> PendingSignup:
    if not isinstance(token, str) or not token or len(token) > 100:
        raise InvalidConfirmation
    pending = (
        PendingSignup.objects.select_related("form_version", "contact")
        .filter(token_hash=token_digest(token))
        .first()
    )
    if pending is None or not pending.is_open():
        raise InvalidConfirmation
    return pending


def confirm(token: str, *, ip: str, user_agent: str) -> PendingSignup:
    """Confirm the sign-up behind a single-use link; records the confirmation proof."""
    now = timezone.now()
    with transaction.atomic():
        pending = open_pending_for_token(token)
        pending = PendingSignup.objects.select_for_update().get(pk=pending.pk)
        if not pending.is_open(now) or pending.token_hash != token_digest(token):
            raise InvalidConfirmation
        contact = Contact.objects.select_for_update().get(pk=pending.contact_id)
        purposes = Purpose.objects.in_bulk([g["purpose"] for g in pending.grants])
        for grant in pending.grants:
            state = ConsentState.objects.filter(
                contact=contact, purpose_id=grant["purpose"]
            ).first()
            if (
                state is None
                or state.status != ConsentStatus.PENDING
                or state.grant_seq != grant["seq"]
            ):
                continue  # withdrawn or replaced since: nothing left to confirm
            record_event(
                contact,
                purposes[grant["purpose"]],
                EventKind.CONFIRMED,
                channel=pending.channel,
                channel_ref=pending.form_version.channel_ref,
                confirms_seq=grant["seq"],
                occurred_at=now,
                proof={
                    "ip": request_text(ip, 45),
                    "user_agent": request_text(user_agent, 500),
                    "confirmed_at": now.isoformat(),
                },
            )
        pending.confirmed_at = now
        pending.token_hash = None
        pending.save(update_fields=["confirmed_at", "token_hash"])
        if pending.created_contact and contact.informed_at is None:
            from akkoord.notices.tasks import queue_privacy_confirmation

            channel = pending.channel
            transaction.on_commit(lambda: queue_privacy_confirmation(contact, channel))
    return pending


def awaiting_confirmation(contact: Contact) -> bool:
    """A person created by a sign-up that is not confirmed yet (nothing may be sent)."""
    return PendingSignup.objects.filter(
        contact=contact, created_contact=True, confirmed_at__isnull=True
    ).exists()
