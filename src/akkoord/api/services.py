"""What the API operations do, on top of the project's services."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from akkoord.consent.audiences import facts_for
from akkoord.consent.explain import explain
from akkoord.consent.ledger import LedgerError, current_consent, record_event
from akkoord.consent.models import Channel, ConsentEvent, ConsentProof, ConsentState, Purpose
from akkoord.consent.rules import PERSON_EVENTS, ConsentStatus, EventKind, MailClass
from akkoord.consent.rules import decide as rules_decide
from akkoord.contacts.erasure import erase_contact
from akkoord.contacts.models import Contact, ContactFieldValue, SourceKind
from akkoord.contacts.services import record_purchase, register_contact, update_contact
from akkoord.lib.text import has_control_characters


def _api_error(*args, **kwargs):
    from akkoord.api.errors import ApiError

    return ApiError(*args, **kwargs)


def refuse_control_characters(values: dict[str, str]) -> None:
    bad = {
        name: [_("Must not contain control characters.")]
        for name, v in values.items()
        if v and has_control_characters(v, free_text=True)
    }
    if bad:
        raise _api_error(422, "invalid", _("The request is not valid; see fields."), bad)


def _no_nul(data: dict) -> dict:
    """Refuse NUL and other control characters anywhere in text input (the
    database would refuse them with a server error)."""
    bad = {}

    def walk(prefix, value):
        if isinstance(value, str) and "\x00" in value:
            bad[prefix] = [_("Must not contain NUL characters.")]
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
                if "\x00" in str(k):
                    bad[prefix or "fields"] = [_("Must not contain NUL characters.")]
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(f"{prefix}.{i}", v)

    walk("", data)
    if bad:
        raise _api_error(422, "invalid", _("The request is not valid; see fields."), bad)
    return data


def contact_queryset():
    return Contact.objects.prefetch_related(
        Prefetch("field_values", queryset=ContactFieldValue.objects.select_related("field"))
    )


def get_contact(contact_id: int) -> Contact:
    contact = contact_queryset().filter(pk=contact_id).first()
    if contact is None:
        raise _api_error(404, "not_found", _("There is no contact with this id."))
    return contact


def contact_out(contact: Contact) -> dict:
    return {
        "id": contact.pk,
        "email": contact.email,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "organisation_name": contact.organisation_name,
        "language": contact.language,
        "source_kind": contact.source_kind,
        "source_detail": contact.source_detail,
        "created_at": contact.created_at,
        "customer_since": contact.customer_since,
        "last_purchase_on": contact.last_purchase_on,
        "objection_offered_at_sale": contact.objection_offered_at_sale,
        "objected_at": contact.objected_at,
        "fields": {v.field.key: v.value for v in contact.field_values.all()},
    }


def create_contact(key, payload) -> Contact:
    data = _no_nul(payload.dict())
    collected = data.pop("collected_from_person")
    if not data.get("fields"):
        data.pop("fields", None)
    contact, _created = register_contact(
        data,
        source_kind=SourceKind.API,
        source_detail=key.name,
        actor=key.audit_label,
        collected_from_person=collected,
    )
    return contact


def patch_contact(key, contact: Contact, payload) -> dict:
    data = _no_nul({k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None})
    return update_contact(contact, data, actor=key.audit_label, via="api")


def add_purchase(key, contact: Contact, payload):
    data = _no_nul(payload.dict())
    return record_purchase(
        contact,
        purchased_on=data["purchased_on"],
        description=data["description"],
        reference=data["reference"],
        objection_offered=data["objection_offered"],
        actor=key.audit_label,
        source_kind=SourceKind.API,
        category=data["category"] or None,
        amount=data["amount"],
    )


def _event_out(event: ConsentEvent, proof: dict | None, purposes: dict) -> dict:
    return {
        "seq": event.seq,
        "purpose": purposes.get(event.purpose_id),
        "kind": event.kind,
        "occurred_at": event.occurred_at,
        "channel": event.channel,
        "channel_ref": event.channel_ref,
        "needs_confirmation": event.needs_confirmation,
        "confirms_seq": event.confirms_seq,
        "proof": {k: v for k, v in proof.items() if k != "nonce"} if proof is not None else None,
    }


def consent_history(contact: Contact) -> dict:
    purposes = dict(Purpose.objects.values_list("pk", "key"))
    events = list(ConsentEvent.objects.filter(subject_key=contact.ledger_key).order_by("seq"))
    proofs = dict(ConsentProof.objects.filter(event__in=events).values_list("event_id", "data"))
    states = ConsentState.objects.filter(contact=contact).select_related("purpose")
    return {
        "states": [
            {
                "purpose": st.purpose.key,
                "status": st.status,
                "granted_at": st.granted_at,
                "confirmed_at": st.confirmed_at,
            }
            for st in states
        ],
        "events": [_event_out(e, proofs.get(e.pk), purposes) for e in events],
    }


def _purpose(key: str | None) -> Purpose:
    purpose = Purpose.objects.filter(key=key or "", is_active=True).first()
    if purpose is None:
        known = ", ".join(Purpose.objects.filter(is_active=True).values_list("key", flat=True))
        raise _api_error(
            422,
            "invalid",
            _("Unknown purpose."),
            {"purpose": [_("Choose one of: %(known)s.") % {"known": known or "-"}]},
        )
    return purpose


def record_consent(key, contact: Contact, payload) -> dict:
    data = _no_nul(payload.dict())
    kind = EventKind(data["kind"])
    proof = {k: v for k, v in data["proof"].items() if v}
    occurred_at = data["occurred_at"] or timezone.now()
    if timezone.is_naive(occurred_at):
        raise _api_error(
            422, "invalid", _("Give times with a time zone."), {"occurred_at": [_("No time zone.")]}
        )
    if occurred_at > timezone.now():
        raise _api_error(
            422,
            "invalid",
            _("A consent event cannot lie in the future: give the time it happened."),
            {"occurred_at": [_("In the future.")]},
        )
    if kind == EventKind.OBJECTION_LIFTED:
        raise _api_error(
            403,
            "not_allowed",
            _(
                "Only the person can lift their objection to direct marketing, in the "
                "customer centre. An API client cannot."
            ),
            {"kind": [_("Not allowed through the API.")]},
        )
    purpose = None
    confirms_seq = None
    if kind in PERSON_EVENTS:
        if data["purpose"]:
            raise _api_error(
                422,
                "invalid",
                _("An objection applies to all direct marketing; leave purpose empty."),
                {"purpose": [_("Must be empty for an objection.")]},
            )
    else:
        purpose = _purpose(data["purpose"])
    if kind == EventKind.GRANTED and not proof.get("text_shown"):
        raise _api_error(
            422,
            "invalid",
            _("A consent needs its proof: the exact text the person agreed to."),
            {"proof.text_shown": [_("Required for granted.")]},
        )
    if kind == EventKind.CONFIRMED:
        state = current_consent(contact, purpose)
        if state.status != ConsentStatus.PENDING:
            raise _api_error(
                409,
                "nothing_to_confirm",
                _("There is no consent awaiting confirmation for this purpose."),
            )
        confirms_seq = state.grant_seq
    proof["api_key"] = key.name
    try:
        event = record_event(
            contact,
            purpose,
            kind,
            channel=Channel.API,
            channel_ref=key.name,
            proof=proof,
            occurred_at=occurred_at,
            needs_confirmation=data["double_opt_in"] if kind == EventKind.GRANTED else None,
            confirms_seq=confirms_seq,
            privacy_statement_version=proof.get("privacy_statement_version", ""),
            actor=key.audit_label,
        )
    except LedgerError as error:
        raise _api_error(422, "invalid", str(error)) from None
    out = _event_out(event, event.proof.data, {purpose.pk: purpose.key} if purpose else {})
    if event.late:
        out["warnings"] = [late_event_warning()]
    return out


def late_event_warning() -> str:
    return _(
        "This event happened before events already recorded for this person and purpose "
        "(or before their objection or complaint). It is recorded and counts at the time it "
        "happened: it does not overrule what happened after it."
    )


def decide(contact: Contact, query) -> dict:
    from akkoord.organisation.models import Organisation

    purpose = _purpose(query.purpose)
    mail_class = MailClass(query.mail_class)
    audience = (
        query.audience if mail_class not in (MailClass.SERVICE, MailClass.REPERMISSION) else None
    )
    months = Organisation.current().customer_relationship_months
    decision = rules_decide(
        facts_for(contact, purpose),
        mail_class,
        audience,
        today=timezone.localdate(),
        customer_months=months,
    )
    return {
        "allowed": decision.allowed,
        "reason": decision.reason.value,
        "basis": decision.basis.value if decision.basis else None,
        "consent_seq": decision.consent_seq,
        "explanation": explain(decision.reason),
    }


def erase(contact: Contact) -> None:
    erase_contact(contact, reason="request", via="api")


def sign_up(key, payload) -> dict:
    from akkoord.signup.models import SignupForm
    from akkoord.signup.services import SignupInvalid, SignupRefused
    from akkoord.signup.services import sign_up as signup_service

    data = _no_nul(payload.dict())
    form = (
        SignupForm.objects.filter(public_key=data["form"]).select_related("current_version").first()
    )
    if form is None or form.current_version is None:
        raise _api_error(404, "not_found", _("There is no published form with this key."))
    person = {"email": data["email"], "purposes": data["purposes"]}
    for name in ("first_name", "last_name", "organisation_name", "language"):
        if data.get(name) is not None:
            person[name] = data[name]
    if data.get("fields"):
        person["fields"] = data["fields"]
    try:
        signup_service(
            form.current_version,
            person,
            ip=data["ip"],
            user_agent=data["user_agent"],
            page_url=data["page_url"],
            channel="api",
        )
    except SignupInvalid as error:
        raise _api_error(422, "invalid", str(error.message), error.errors) from None
    except SignupRefused as error:
        status = 429 if error.code.startswith("rate") or error.code == "busy" else 409
        raise _api_error(status, error.code, str(error.message)) from None
    return {
        "accepted": True,
        "message": _("If the address can receive mail, a confirmation link is on its way."),
    }
