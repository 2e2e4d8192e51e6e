"""Ledger proofs, timeline entries and actors are shown in words, never as stored keys."""

from datetime import date

import pytest
from django.utils import translation

from akkoord.consent import words
from akkoord.contacts.models import Activity, ActivityKind, ContactField
from akkoord.contacts.services import record_purchase, update_contact
from akkoord.signup.models import SignupForm


@pytest.fixture
def dutch():
    with translation.override("nl"):
        yield


def test_a_proof_reads_as_labels_and_values_in_dutch(db, dutch):
    form = SignupForm.objects.create(name="Nieuwsbrief website")
    items = words.proof_items(
        {
            "text_shown": "Yes, send me the newsletter.",
            "text_language": "en",
            "submitted_at": "2026-03-17T09:30:00+00:00",
            "channel": "form",
            "form": f"form:{form.pk}:v2",
            "imported_by": "jan@example.nl",
            "nonce": "secret",
        }
    )
    shown = {item.label: item.value for item in items}
    assert shown["Letterlijk getoonde tekst"] == "Yes, send me the newsletter."
    assert shown["Verstuurd op"] == "17 maart 2026 10:30"  # Europe/Amsterdam, CET
    assert shown["Kanaal"] == "Aanmeldformulier"
    assert shown["Formulier"] == "Nieuwsbrief website (versie 2)"
    assert shown["Geïmporteerd door"] == "jan@example.nl"
    assert "nonce" not in shown and "secret" not in shown.values()
    # The English text is marked as English, so a page can say so (lang="en").
    assert next(i for i in items if i.label == "Letterlijk getoonde tekst").lang == "en"
    # An unknown key is shown as it is: nothing in a proof is hidden.
    assert words.proof_items({"custom_key": "x"})[0].label == "custom_key"


def test_timeline_entries_and_actors_read_in_dutch(db, dutch, contact):
    field = ContactField.objects.create(
        key="woonplaats", label_nl="Woonplaats", label_en="Town", category="contact"
    )
    update_contact(contact, {"fields": {field.key: "Utrecht"}}, actor="system")
    record_purchase(
        contact,
        purchased_on=date(2026, 3, 1),
        description="Racefiets",
        objection_offered=True,
        actor="demo",
    )
    changed = Activity.objects.get(contact=contact, kind=ActivityKind.CHANGED)
    purchase = Activity.objects.get(contact=contact, kind=ActivityKind.PURCHASE)
    assert words.describe(changed) == "Gewijzigd: Woonplaats"
    assert words.describe(purchase) == "Aankoop op 1 maart 2026: Racefiets"
    assert words.actor_label("system") == "Akkoord (automatisch)"
    assert words.actor_label("demo") == "Demogegevens"
    assert words.actor_label("campaign:99") == "mailingnummer 99"
    assert words.actor_label("marieke@example.nl") == "marieke@example.nl"
