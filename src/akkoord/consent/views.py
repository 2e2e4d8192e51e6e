"""Consent on a contact's page: history with proof, "may I mail?", and staff-recorded events.

``consent_overview`` and ``mail_answers`` build the consent sections of the
contact page (``contacts.views.contact_detail``); the views below record a
consent, a withdrawal or an objection that a person gave by phone or in
person. Every write goes through ``consent.ledger.record_event``.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from akkoord.accounts.audit import audit
from akkoord.accounts.decorators import staff_required
from akkoord.accounts.models import AuditAction
from akkoord.consent import words
from akkoord.consent.audiences import facts_for
from akkoord.consent.explain import BASIS_TEXTS, MAIL_CLASS_TEXTS, explain
from akkoord.consent.forms import GrantForm, ObjectionForm, WithdrawForm
from akkoord.consent.ledger import record_event
from akkoord.consent.models import Channel, ConsentEvent, ConsentState, Purpose
from akkoord.consent.rules import (
    Audience,
    ConsentStatus,
    ContactFacts,
    EventKind,
    MailClass,
    decide,
)
from akkoord.contacts.models import Contact
from akkoord.organisation.models import Organisation

EVENT_TEXTS = {
    EventKind.GRANTED: gettext_lazy("consent given"),
    EventKind.CONFIRMED: gettext_lazy("consent confirmed (double opt-in)"),
    EventKind.WITHDRAWN: gettext_lazy("consent withdrawn"),
    EventKind.OBJECTED: gettext_lazy("objected to all direct marketing"),
    EventKind.UNPROVEN: gettext_lazy("recorded as consent without proof"),
    EventKind.OBJECTION_LIFTED: gettext_lazy("objection lifted by the person"),
    EventKind.COMPLAINED: gettext_lazy("spam complaint (withdraws every purpose)"),
    EventKind.EXPIRED: gettext_lazy("unconfirmed consent expired (counts as never given)"),
}

AUDIENCE_TEXTS = {
    Audience.CUSTOMERS: gettext_lazy("customers only"),
    Audience.CUSTOMERS_AND_OPTINS: gettext_lazy("customers + opt-ins"),
    Audience.OPTINS: gettext_lazy("opt-ins only"),
}


def _event_row(event: ConsentEvent) -> dict:
    try:
        proof = event.proof
    except ConsentEvent.proof.RelatedObjectDoesNotExist:
        proof = None
    return {
        "event": event,
        "kind_text": EVENT_TEXTS.get(event.kind, event.kind),
        "channel_text": words.channel_label(event.channel),
        "channel_ref_text": words.reference(event.channel_ref) if event.channel_ref else "",
        "proof_items": words.proof_items(proof.data) if proof is not None else [],
        "proof_erased": proof is None,
        "confirmation": None,
    }


def consent_overview(contact: Contact) -> dict:
    """Current state per purpose with the full ledger history and its proof in words.

    Events are listed in the order they happened (ties by ledger order), the
    order in which they count; an event reported late shows where it belongs.
    """
    events = list(
        ConsentEvent.objects.filter(subject_key=contact.ledger_key)
        .select_related("purpose", "proof")
        .order_by("occurred_at", "seq")
    )
    states = {s.purpose_id: s for s in ConsentState.objects.filter(contact=contact)}
    rows_by_seq = {}
    history: dict[int, list[dict]] = {}
    objections = []
    for event in events:
        row = _event_row(event)
        rows_by_seq[event.seq] = row
        if event.purpose_id is None:  # objections, their lifting, complaints
            objections.append(row)
            continue
        history.setdefault(event.purpose_id, []).append(row)
        if event.kind == EventKind.CONFIRMED and event.confirms_seq in rows_by_seq:
            rows_by_seq[event.confirms_seq]["confirmation"] = row
    purposes = [
        p for p in Purpose.objects.all() if p.is_active or p.pk in history or p.pk in states
    ]
    per_purpose = []
    for purpose in purposes:
        state = states.get(purpose.pk)
        per_purpose.append(
            {
                "purpose": purpose,
                "status": state.status if state else ConsentStatus.NONE.value,
                "state": state,
                "history": history.get(purpose.pk, []),
            }
        )
    return {"purposes": per_purpose, "objections": objections}


# Every (mail class, audience) pair the "may I mail?" table answers, per purpose.
MAIL_QUESTIONS = [
    (MailClass.MARKETING_SIMILAR, Audience.CUSTOMERS),
    (MailClass.MARKETING_SIMILAR, Audience.CUSTOMERS_AND_OPTINS),
    (MailClass.MARKETING_SIMILAR, Audience.OPTINS),
    (MailClass.MARKETING_OTHER, Audience.CUSTOMERS),
    (MailClass.MARKETING_OTHER, Audience.CUSTOMERS_AND_OPTINS),
    (MailClass.MARKETING_OTHER, Audience.OPTINS),
    (MailClass.REPERMISSION, None),
]


def _answer(facts: ContactFacts, mail_class, audience, *, today, months) -> dict:
    decision = decide(facts, mail_class, audience, today=today, customer_months=months)
    return {
        "mail_class": MAIL_CLASS_TEXTS[mail_class],
        "mail_class_key": mail_class.value,
        "audience": AUDIENCE_TEXTS[audience] if audience else "",
        "audience_key": audience.value if audience else "",
        "allowed": decision.allowed,
        "reason": decision.reason.value,
        "basis": BASIS_TEXTS[decision.basis] if decision.basis else "",
        "consent_seq": decision.consent_seq,
        "explanation": explain(decision.reason),
    }


def mail_answers(contact: Contact) -> dict:
    """The lawfulness engine's answer for each marketing purpose and mail class/audience."""
    months = Organisation.current().customer_relationship_months
    today = timezone.localdate()
    purposes = Purpose.objects.filter(is_active=True, is_marketing=True)
    tables = []
    service = None
    for purpose in purposes:
        facts = facts_for(contact, purpose)
        if service is None:
            service = _answer(facts, MailClass.SERVICE, None, today=today, months=months)
        tables.append(
            {
                "purpose": purpose,
                "answers": [
                    _answer(facts, mail_class, audience, today=today, months=months)
                    for mail_class, audience in MAIL_QUESTIONS
                ],
            }
        )
    if service is None:
        service = _answer(
            ContactFacts(hard_bounced=contact.hard_bounced_at is not None),
            MailClass.SERVICE,
            None,
            today=today,
            months=months,
        )
    return {"purposes": tables, "service": service, "customer_months": months}


# --- recording on behalf of a person ---------------------------------------


def _staff_proof(request, form, **extra) -> dict:
    return {
        "staff_user": request.user.email,
        "how": form.cleaned_data["how"],
        **extra,
        "note": form.cleaned_data["note"].strip(),
    }


def _page(request, contact, form, template, **extra):
    return render(request, template, {"contact": contact, "form": form, **extra})


@require_http_methods(["GET", "POST"])
@staff_required(change=True)
def grant(request, pk: int):
    """Record a consent the person gave by phone or in person (no confirmation needed)."""
    contact = get_object_or_404(Contact, pk=pk)
    form = GrantForm(request.POST or None, initial={"text_language": contact.language})
    if request.method == "POST" and form.is_valid():
        purpose = form.cleaned_data["purpose"]
        language = form.cleaned_data["text_language"]
        with transaction.atomic():
            record_event(
                contact,
                purpose,
                EventKind.GRANTED,
                channel=Channel.STAFF,
                channel_ref=f"user:{request.user.pk}",
                proof=_staff_proof(
                    request,
                    form,
                    text=purpose.consent_text(language),
                    text_language=language,
                ),
                needs_confirmation=False,
                actor=request.user.email,
            )
            audit(
                request.user,
                AuditAction.CHANGE,
                contact,
                detail=f"consent granted: {purpose.key}",
            )
        messages.success(request, _("The consent was recorded."))
        return redirect("contacts:detail", pk=contact.pk)
    purposes = Purpose.objects.filter(is_active=True)
    return _page(request, contact, form, "consent/grant.html", purposes=purposes)


@require_http_methods(["GET", "POST"])
@staff_required(change=True)
def withdraw(request, pk: int):
    """Record that the person withdrew consent for one purpose."""
    contact = get_object_or_404(Contact, pk=pk)
    form = WithdrawForm(request.POST or None, contact=contact)
    if request.method == "POST" and form.is_valid():
        purpose = form.cleaned_data["purpose"]
        with transaction.atomic():
            record_event(
                contact,
                purpose,
                EventKind.WITHDRAWN,
                channel=Channel.STAFF,
                channel_ref=f"user:{request.user.pk}",
                proof=_staff_proof(request, form),
                actor=request.user.email,
            )
            audit(
                request.user,
                AuditAction.CHANGE,
                contact,
                detail=f"consent withdrawn: {purpose.key}",
            )
        messages.success(request, _("The withdrawal was recorded."))
        return redirect("contacts:detail", pk=contact.pk)
    return _page(request, contact, form, "consent/withdraw.html")


@require_http_methods(["GET", "POST"])
@staff_required(change=True)
def object_to_marketing(request, pk: int):
    """Record an objection to all direct marketing (GDPR art. 21): absolute."""
    contact = get_object_or_404(Contact, pk=pk)
    form = ObjectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            record_event(
                contact,
                None,
                EventKind.OBJECTED,
                channel=Channel.STAFF,
                channel_ref=f"user:{request.user.pk}",
                proof=_staff_proof(request, form),
                actor=request.user.email,
            )
            audit(request.user, AuditAction.CHANGE, contact, detail="objected to marketing")
        messages.success(request, _("The objection was recorded."))
        return redirect("contacts:detail", pk=contact.pk)
    return _page(request, contact, form, "consent/object.html")
