"""What sign-ups add to other pages: the proof on a contact's page; erasure."""

from akkoord.consent.models import ConsentEvent, ConsentProof
from akkoord.consent.rules import EventKind
from akkoord.signup.models import PendingSignup


def erase_pending_signups(contact) -> None:
    PendingSignup.objects.filter(contact=contact).delete()


def signup_proofs(contact) -> list[dict]:
    """Each form or API grant of this person with its proof and its confirmation."""
    events = list(
        ConsentEvent.objects.filter(subject_key=contact.ledger_key, channel__in=["form", "api"])
        .select_related("purpose")
        .order_by("seq")
    )
    proofs = {
        p.event_id: p.data for p in ConsentProof.objects.filter(event__in=[e.pk for e in events])
    }
    confirmations = {
        e.confirms_seq: e for e in events if e.kind == EventKind.CONFIRMED and e.confirms_seq
    }
    rows = []
    for event in events:
        if event.kind != EventKind.GRANTED:
            continue
        confirmation = confirmations.get(event.seq)
        rows.append(
            {
                "event": event,
                "proof": proofs.get(event.pk, {}),
                "confirmation": confirmation,
                "confirmation_proof": proofs.get(confirmation.pk, {}) if confirmation else {},
            }
        )
    return rows


def contact_signups(request, contact):
    rows = signup_proofs(contact)
    if not rows:
        return None
    return "signup/contact_section.html", {"signup_rows": rows, "contact": contact}
