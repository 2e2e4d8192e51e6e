"""The register: pre-filled from the configuration, in both languages, exported."""

import csv
import io
import json

import pytest
from pypdf import PdfReader

from akkoord.accountability import exports, register
from akkoord.accountability.models import ProcessingActivity, Processor, RegisterVersion
from akkoord.contacts.models import ContactField


def test_prefill_makes_one_activity_per_purpose_plus_customers(complete, newsletter):
    activities = ProcessingActivity.objects.all()
    assert activities.count() == 3
    assert activities.get(purpose=newsletter).legal_basis == "consent"
    assert activities.get(purpose__isnull=True).legal_basis == "contract"
    assert [p.name for p in Processor.objects.all()][0] == "Hosting"
    assert Processor.objects.count() == 2
    register.prefill()
    assert ProcessingActivity.objects.count() == 3 and Processor.objects.count() == 2


def test_register_holds_every_art_30_item_in_both_languages(complete):
    ContactField.objects.create(
        key="geboortedatum",
        label_nl="Geboortedatum",
        label_en="Date of birth",
        category="demographic",
    )
    nl, en = register.build_register("nl"), register.build_register("en")
    assert nl["controller"]["name"] == "Fietsenwinkel De Ketting B.V."
    newsletter = next(a for a in en["activities"] if a["purpose_key"] == "nieuwsbrief")
    for key in (
        "purposes",
        "legal_basis",
        "persons",
        "data_categories",
        "source",
        "processors",
        "transfers",
        "retention_days",
        "retention_reason",
    ):
        assert key in newsletter
    assert "Demographic data" in newsletter["data_categories"]
    assert newsletter["legal_basis"].startswith("Consent")
    dutch = next(a for a in nl["activities"] if a["purpose_key"] == "nieuwsbrief")
    assert dutch["name"] == "Nieuwsbrief" and newsletter["name"] == "Newsletter"
    assert dutch["persons"] == "Klanten en geïnteresseerden"


def test_pdf_export_opens_and_holds_the_register(complete):
    Processor.objects.create(name="Wolkmail", service_nl="Mail", service_en="Mail", country="US")
    pdf = exports.register_pdf(register.build_register("nl"))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Fietsenwinkel De Ketting B.V." in text
    assert "Nieuwsbrief" in text and "Productupdates" in text
    assert "geïnteresseerden" in text  # Dutch characters survive the core font
    assert "Wolkmail" in text


def test_csv_and_json_exports(complete):
    data = register.build_register("en")
    rows = list(csv.reader(io.StringIO(exports.register_csv(data))))
    assert rows[0][0] == "Processing activity"
    assert {r[0] for r in rows[1:]} >= {"Newsletter", "Product updates"}
    assert json.loads(exports.register_json(data))["controller"]["email"] == (
        "privacy@deketting.example.nl"
    )


def test_csv_cells_cannot_start_a_formula(complete):
    ProcessingActivity.objects.filter(purpose__key="nieuwsbrief").update(name_en="=HYPERLINK(1)")
    text = exports.register_csv(register.build_register("en"))
    assert "'=HYPERLINK(1)" in text


def test_versions_are_kept_unchanged(complete, newsletter, admin):
    first = register.save_version(admin)
    newsletter.retention_days = 100
    newsletter.save()
    second = register.save_version(admin)
    first.refresh_from_db()
    days = lambda v: [a["retention_days"] for a in v.content["en"]["activities"]]  # noqa: E731
    assert 730 in days(first) and 100 in days(second) and 100 not in days(first)
    assert list(RegisterVersion.objects.values_list("number", flat=True)) == [2, 1]


def test_a_complete_register_lacks_nothing_in_either_language(complete):
    assert register.missing_items(register.build_register("nl")) == []
    assert register.missing_items(register.build_register("en")) == []


def _settings_blank(**values):
    from akkoord.accountability.models import AccountabilitySettings

    def blank(org):
        AccountabilitySettings.objects.update(**values)

    return blank


def _org_blank(**values):
    def blank(org):
        for name, value in values.items():
            setattr(org, name, value)
        org.save()

    return blank


def _activity_blank(**values):
    def blank(org):
        ProcessingActivity.objects.filter(purpose__key="nieuwsbrief").update(**values)

    return blank


def _newsletter_reason_blank(org):
    from akkoord.consent.models import Purpose

    Purpose.objects.filter(key="nieuwsbrief").update(retention_reason_en="")
    ProcessingActivity.objects.filter(purpose__key="nieuwsbrief").update(retention_reason_en="")


def _processor_outside_eu(org):
    Processor.objects.create(name="Wolkmail", service_nl="Mail", service_en="Mail", country="US")


REGISTER_GAPS = [
    ("controller", _org_blank(address=""), "The controller's name and address."),
    ("placeholder", _org_blank(name="Mijn organisatie"), "The controller's name and address."),
    ("email", _org_blank(contact_email=""), "The controller's e-mail address."),
    ("security", _settings_blank(security_en=""), "The security measures."),
    ("location", _settings_blank(storage_country=""), "The country where the data is stored."),
    (
        "purposes",
        _activity_blank(description_en=""),
        "Newsletter: the description of its purposes.",
    ),
    ("persons", _activity_blank(persons_en=""), "Newsletter: the categories of persons."),
    ("source", _activity_blank(source_en=""), "Newsletter: the source of the data."),
    ("retention", _newsletter_reason_blank, "Newsletter: the reason for its retention period."),
    (
        "transfer",
        _processor_outside_eu,
        "A transfer safeguard for processor Wolkmail, outside the EU.",
    ),
]


@pytest.mark.parametrize("key,blank,gap", REGISTER_GAPS, ids=[g[0] for g in REGISTER_GAPS])
def test_each_missing_register_item_is_named(complete, key, blank, gap):
    blank(complete)
    assert register.missing_items(register.build_register("en")) == [gap]


def test_register_gaps_are_named_in_dutch(complete):
    from akkoord.accountability.models import AccountabilitySettings

    AccountabilitySettings.objects.update(security_nl="")
    assert register.missing_items(register.build_register("nl")) == ["De beveiligingsmaatregelen."]
