"""The privacy statement: 11 parts, completeness before publishing, versions, renewal."""

import pytest

from akkoord.accountability import register, statement
from akkoord.accountability.models import (
    AccountabilitySettings,
    ProcessingActivity,
    Processor,
    StatementVersion,
)
from akkoord.accountability.setup import ensure_published_defaults
from akkoord.consent.ledger import record_event
from akkoord.consent.models import Channel, Purpose
from akkoord.consent.rules import EventKind
from akkoord.contacts.services import register_contact


def _gap_parts(language="en"):
    return {title for title, _what in statement.build_statement(language)["missing"]}


def test_complete_configuration_has_no_gaps_and_eleven_parts(complete):
    for language in ("nl", "en"):
        built = statement.build_statement(language)
        assert built["missing"] == []
        assert len(built["parts"]) == 11
        assert all(part["lines"] for part in built["parts"])
    assert statement.missing_parts() == []


def _blank_identity(org):
    org.name = ""
    org.save()


def _blank_contact(org):
    org.contact_email = ""
    org.save()


def _blank_purposes(org):
    ProcessingActivity.objects.update(description_en="")


def _blank_recipients(org):
    Processor.objects.all().delete()


def _blank_retention(org):
    Purpose.objects.update(retention_reason_en="")
    ProcessingActivity.objects.update(retention_reason_en="")


def _blank_text(part):
    def blank(org):
        AccountabilitySettings.objects.update(**{f"{part}_en": ""})

    return blank


CASES = [
    ("identity", "Who we are", _blank_identity),
    ("contact", "How to reach us", _blank_contact),
    ("purposes", "Why we process your data", _blank_purposes),
    ("recipients", "Who receives your data", _blank_recipients),
    ("retention", "How long we keep your data, and why", _blank_retention),
    ("rights", "Your right of access, rectification and erasure", _blank_text("rights")),
    ("objection", "Your right to object", _blank_text("objection")),
    ("withdrawal", "Your right to withdraw consent", _blank_text("withdrawal")),
    (
        "complaint",
        "Your right to complain to the Autoriteit Persoonsgegevens",
        _blank_text("complaint"),
    ),
    ("required", "Whether you must give us your data", _blank_text("required")),
    ("automated", "Automated processing and cookies", _blank_text("automated")),
]


@pytest.mark.parametrize("key,title,blank", CASES, ids=[c[0] for c in CASES])
def test_each_missing_part_is_named_and_blocks_publishing(complete, key, title, blank):
    blank(complete)
    assert _gap_parts("en") == {title}
    with pytest.raises(statement.StatementIncomplete) as refused:
        statement.publish()
    english = [gap for gap in refused.value.missing if "(en)" in gap]
    assert english and all(gap.startswith(f"{title} (en): ") for gap in english)
    assert not StatementVersion.objects.exists()


def test_a_dutch_gap_is_named_in_dutch(complete):
    AccountabilitySettings.objects.update(objection_nl="")
    gaps = statement.missing_parts()
    assert gaps == ["Uw recht om bezwaar te maken (nl): de tekst"]


def test_processor_outside_the_eu_blocks_until_a_safeguard_is_recorded(complete):
    processor = Processor.objects.create(
        name="Cloudmail Inc.", service_nl="Mail", service_en="Mail", country="US"
    )
    assert processor.flagged
    assert any("Cloudmail" in gap for gap in statement.missing_parts())
    processor.safeguard = "scc"
    processor.save()
    assert statement.missing_parts() == []
    recipients = statement.build_statement("en")["parts"][3]["lines"]
    assert any(
        "Cloudmail" in line and "Standard contractual clauses" in line for line in recipients
    )


def test_publish_freezes_both_languages_and_the_register(complete, admin):
    version = statement.publish(admin)
    assert version.number == 1
    assert version.register_version.number == 1
    assert version.content["nl"]["parts"][0]["title"] == "Wie wij zijn"
    assert version.content["en"]["parts"][0]["title"] == "Who we are"
    assert statement.current_statement_version() == "1"
    assert statement.current_statement_url() == "http://testserver/privacy/1/"
    assert statement.publish(admin).number == 2


def test_statement_url_falls_back_to_the_organisations_own(organisation):
    assert statement.current_statement_version() == ""
    organisation.privacy_statement_url = "https://example.nl/privacy"
    organisation.save()
    assert statement.current_statement_url() == "https://example.nl/privacy"


def test_changing_a_purposes_retention_changes_register_and_statement(complete, newsletter):
    def texts():
        reg = register.build_register("en")
        days = {a["purpose_key"]: a["retention_days"] for a in reg["activities"]}
        retention = statement.build_statement("en")["parts"][4]["lines"]
        return days["nieuwsbrief"], " ".join(retention)

    days, text = texts()
    assert days == 730 and "Newsletter: 2 years" in text
    newsletter.retention_days = 400
    newsletter.save()
    days, text = texts()
    assert (
        days == 400
        and "Newsletter: 400 days" in text
        and "2 years after" not in text.split("Product updates")[0]
    )


def test_dpo_appears_once_set(complete):
    assert "data protection officer" not in " ".join(
        statement.build_statement("en")["parts"][1]["lines"]
    )
    complete.dpo_name = "Dora de Vries"
    complete.dpo_email = "fg@deketting.example.nl"
    complete.save()
    assert register.build_register("nl")["dpo"]["name"] == "Dora de Vries"
    assert "Dora de Vries" in " ".join(statement.build_statement("en")["parts"][1]["lines"])


def test_ensure_published_defaults_is_idempotent(complete):
    first = ensure_published_defaults()
    assert first is not None and first.number == 1
    assert ensure_published_defaults().pk == first.pk
    assert StatementVersion.objects.count() == 1
    assert Processor.objects.count() == 2
    assert ProcessingActivity.objects.count() == 3


def test_ensure_published_defaults_waits_for_organisation_details(db, newsletter):
    assert ensure_published_defaults() is None
    assert not StatementVersion.objects.exists()


def _grant(contact, purpose, version):
    record_event(
        contact,
        purpose,
        EventKind.GRANTED,
        channel=Channel.STAFF,
        needs_confirmation=False,
        privacy_statement_version=version,
    )


def test_material_change_lists_consents_given_under_older_versions(complete, newsletter, admin):
    statement.publish(admin)
    people = [
        register_contact({"email": f"p{i}@example.nl"}, source_kind="staff", actor="t")[0]
        for i in range(4)
    ]
    _grant(people[0], newsletter, "1")
    _grant(people[1], newsletter, "")
    statement.publish(admin, material=True)
    _grant(people[2], newsletter, "2")
    statement.publish(admin)
    _grant(people[3], newsletter, "3")
    material, states = statement.renewal_needed()
    assert material.number == 2
    assert {s.contact_id for s in states} == {people[0].pk, people[1].pk}


def test_no_renewal_without_a_material_version(complete, admin):
    statement.publish(admin)
    material, states = statement.renewal_needed()
    assert material is None and not states.exists()


def test_the_demo_organisation_gets_a_complete_register_and_a_published_statement(
    db, settings, tmp_path, client
):
    from akkoord.front.demo import create_demo

    settings.DATA_DIR = tmp_path
    create_demo()
    version = statement.current_statement()  # published by the demo itself
    assert version is not None and statement.missing_parts() == []
    for language in ("nl", "en"):
        assert register.missing_items(register.build_register(language)) == []
    assert ensure_published_defaults().pk == version.pk
    nl = client.get("/privacy", {"lang": "nl"}, follow=True)
    en = client.get("/privacy", {"lang": "en"}, follow=True)
    assert nl.status_code == en.status_code == 200
    assert "Wie wij zijn" in nl.content.decode() and "Who we are" in en.content.decode()
    assert "Fietsenwinkel De Ketting B.V." in en.content.decode()
    purposes = {a["purpose_key"] for a in register.build_register("nl")["activities"]}
    assert set(Purpose.objects.filter(is_active=True).values_list("key", flat=True)) <= purposes
    assert version.content["nl"]["organisation"] == "Fietsenwinkel De Ketting B.V."
