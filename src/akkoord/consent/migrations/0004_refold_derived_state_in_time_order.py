"""Recompute the derived consent state in the order events happened.

Earlier versions folded events in arrival order and kept the confirmation time
as ``granted_at``; this brings every derived row (and the objection and
complaint facts of each contact) to what the time-ordered fold gives.
"""

from django.db import migrations


def refold(apps, schema_editor):
    from akkoord.consent.rules import (
        ConsentStatus,
        EventKind,
        LedgerEntry,
        fold_purpose,
        fold_standing,
    )

    event_model = apps.get_model("consent", "ConsentEvent")
    state_model = apps.get_model("consent", "ConsentState")
    contact_model = apps.get_model("contacts", "Contact")
    by_subject: dict = {}
    for e in event_model.objects.order_by("seq").iterator(chunk_size=5000):
        entry = LedgerEntry(
            e.seq, EventKind(e.kind), e.occurred_at, e.needs_confirmation, e.confirms_seq
        )
        by_subject.setdefault(e.subject_key, []).append((e.purpose_id, entry))
    for contact in contact_model.objects.iterator(chunk_size=5000):
        entries = by_subject.get(contact.ledger_key, [])
        person = [entry for purpose_id, entry in entries if purpose_id is None]
        standing = fold_standing(person)
        contact_model.objects.filter(pk=contact.pk).update(
            objected_at=standing.objected_at,
            has_objected=standing.has_objected,
            complained_at=standing.complained_at or contact.complained_at,
        )
        for purpose_id in {p for p, _entry in entries if p is not None}:
            own = [entry for p, entry in entries if p == purpose_id]
            state = fold_purpose([*own, *person])
            if state.status == ConsentStatus.NONE:
                state_model.objects.filter(contact_id=contact.pk, purpose_id=purpose_id).delete()
                continue
            state_model.objects.update_or_create(
                contact_id=contact.pk,
                purpose_id=purpose_id,
                defaults={
                    "status": state.status.value,
                    "grant_seq": state.grant_seq,
                    "granted_at": state.granted_at,
                    "confirmed_at": state.confirmed_at,
                    "changed_at": state.changed_at,
                    "last_seq": state.last_seq,
                    "last_at": state.last_at,
                },
            )


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0003_state_last_at_and_proof_erasure"),
        ("contacts", "0004_contact_has_objected"),
    ]
    operations = [migrations.RunPython(refold, migrations.RunPython.noop)]
