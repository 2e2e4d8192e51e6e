"""Import files that carry purchases (date, description, category, amount, ...) and tags,
through the real importer: what is written per person, and what is refused per row and column."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from openpyxl import Workbook

from akkoord.consent.models import ConsentEvent
from akkoord.contacts.models import Activity, Contact, ProductCategory, Purchase
from akkoord.contacts.services import register_contact
from akkoord.segments.models import Tag
from akkoord.transfer import formats
from akkoord.transfer.importer import ImportError_, ImportRun, prepare, run_import
from akkoord.transfer.reading import open_path

HEADER = (
    "email,first_name,aankoopdatum,purchase_description,productcategorie,bedrag,"
    "purchase_reference,purchase_objection_offered,tags\n"
)


@pytest.fixture
def bikes(db):
    return ProductCategory.objects.create(key="bikes", name_nl="Fietsen", name_en="Bikes")


def do_import(path, purpose_key="nieuwsbrief", **kwargs):
    source = open_path(path)
    mapping = kwargs.pop("mapping", None)
    purpose, mapping, fmt = prepare(source, purpose_key=purpose_key, fmt="auto", mapping=mapping)
    return run_import(ImportRun(source, mapping, purpose, format=fmt, **kwargs))


def purchases_of(email):
    return [
        (p.purchased_on, p.description, p.category.key, p.amount, p.reference, p.objection_offered)
        for p in Purchase.objects.filter(contact__email=email).order_by("purchased_on", "id")
    ]


def tags_of(email):
    return sorted(Contact.objects.get(email=email).tags.values_list("name", flat=True))


def test_the_csv_columns_are_recognised_by_their_names():
    header = HEADER.strip().split(",")
    mapping = formats.suggest_mapping(header, "csv", [])
    assert mapping == {
        "email": "email",
        "first_name": "first_name",
        "aankoopdatum": "purchase_date",
        "purchase_description": "purchase_description",
        "productcategorie": "purchase_category",
        "bedrag": "purchase_amount",
        "purchase_reference": "purchase_reference",
        "purchase_objection_offered": "purchase_objection_offered",
        "tags": "tags",
    }


def test_purchases_and_tags_are_written_per_person(newsletter, bikes, write_csv):
    existing, _created = register_contact(
        {"email": "els@example.com", "first_name": "Els"}, source_kind="staff", actor="test"
    )
    Tag.objects.create(name="vip").contacts.add(existing)
    path = write_csv(
        "shop.csv",
        HEADER
        + 'anna@example.com,Anna,2026-03-01,Racefiets,bikes,1299.50,ORD-1,ja,"vip, beurs-2026"\n'
        + 'bram@example.com,Bram,01-02-2026,Bel,,"4,95",,nee,beurs-2026\n'
        + "cees@example.com,Cees,,,,,,,\n"
        + 'els@example.com,Els,2026-04-01,Helm,bikes,,,yes,"vip,nieuw"\n',
    )
    report = do_import(path)

    assert report.problem_count == 0 and report.committed
    assert (report.created, report.purchases, report.purchases_known, report.tagged) == (
        3,
        3,
        0,
        3,
    )
    assert purchases_of("anna@example.com") == [
        (date(2026, 3, 1), "Racefiets", "bikes", Decimal("1299.50"), "ORD-1", True)
    ]
    assert purchases_of("bram@example.com") == [
        (date(2026, 2, 1), "Bel", "uncategorised", Decimal("4.95"), "", False)
    ]
    assert purchases_of("cees@example.com") == []
    assert purchases_of("els@example.com") == [(date(2026, 4, 1), "Helm", "bikes", None, "", True)]
    assert tags_of("anna@example.com") == ["beurs-2026", "vip"]
    assert tags_of("bram@example.com") == ["beurs-2026"]
    assert tags_of("cees@example.com") == []
    assert tags_of("els@example.com") == ["nieuw", "vip"]
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["beurs-2026", "nieuw", "vip"]

    # The customer relationship follows the purchases, as for a purchase entered by hand.
    anna = Contact.objects.get(email="anna@example.com")
    assert (anna.customer_since, anna.last_purchase_on, anna.objection_offered_at_sale) == (
        date(2026, 3, 1),
        date(2026, 3, 1),
        True,
    )
    bram = Contact.objects.get(email="bram@example.com")
    assert (bram.last_purchase_on, bram.objection_offered_at_sale) == (date(2026, 2, 1), False)
    cees = Contact.objects.get(email="cees@example.com")
    assert cees.last_purchase_on is None
    els = Contact.objects.get(email="els@example.com")
    assert (els.last_purchase_on, els.objection_offered_at_sale) == (date(2026, 4, 1), True)

    # On the timeline: the purchase with the file and row, the tags with before and after.
    bought = Activity.objects.get(contact=anna, kind="purchase")
    assert bought.data["amount"] == "1299.50" and bought.data["row"] == 2
    assert bought.data["category"] == "bikes" and bought.data["detail"] == "shop.csv"
    tagged = Activity.objects.get(contact=els, kind="changed", summary="tags changed")
    assert tagged.data["changes"]["tags"] == [["vip"], ["nieuw", "vip"]]


def test_importing_the_same_file_again_adds_nothing(newsletter, bikes, write_csv):
    path = write_csv(
        "shop.csv",
        HEADER + "anna@example.com,Anna,2026-03-01,Racefiets,bikes,1299.5,,ja,vip\n",
    )
    do_import(path)
    again = do_import(path)
    assert (again.purchases, again.purchases_known, again.tagged) == (0, 1, 0)
    assert Purchase.objects.count() == 1
    assert Activity.objects.filter(kind="purchase").count() == 1
    assert Activity.objects.filter(summary="tags changed").count() == 1


def test_bad_purchase_and_tag_cells_are_reported_by_row_and_column(newsletter, bikes, write_csv):
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    long_tag = "x" * 51
    path = write_csv(
        "shop.csv",
        HEADER
        + "a@example.com,A,2026-03-01,Fiets,boats,10,,ja,\n"  # 2: unknown category key
        + "b@example.com,B,2026-03-01,Fiets,bikes,-5,,ja,\n"  # 3: negative amount
        + "c@example.com,C,2026-03-01,Fiets,bikes,€ 10,,ja,\n"  # 4: not a number
        + "d@example.com,D,2026-03-01,Fiets,bikes,1.005,,ja,\n"  # 5: three decimals
        + f"e@example.com,E,{future},Fiets,bikes,,,ja,\n"  # 6: in the future
        + "f@example.com,F,gisteren,Fiets,bikes,,,ja,\n"  # 7: not a date
        + "g@example.com,G,,Fiets,bikes,10,,ja,\n"  # 8: details without a date
        + "h@example.com,H,2026-03-01,,bikes,,,ja,\n"  # 9: no description
        + "i@example.com,I,2026-03-01,Fiets,bikes,,,misschien,\n"  # 10: not yes or no
        + f'j@example.com,J,,,,,,,"ok,{long_tag}"\n'  # 11: tag too long
        + "k@example.com,K,,,,,,,=SUM(1)\n"  # 12: a formula
        + "l@example.com,L,2026-03-01,Fiets,bikes,10000000000,,ja,\n"  # 13: too large
        + "m@example.com,M,2026-03-01,Fiets,bikes,12.50,,ja,fine\n",  # 14: good
    )
    with translation.override("en"):
        report = do_import(path)

    found = {(p.row, p.column) for p in report.problems}
    assert found == {
        (2, "productcategorie"),
        (3, "bedrag"),
        (4, "bedrag"),
        (5, "bedrag"),
        (6, "aankoopdatum"),
        (7, "aankoopdatum"),
        (8, "aankoopdatum"),
        (9, "purchase_description"),
        (10, "purchase_objection_offered"),
        (11, "tags"),
        (12, "tags"),
        (13, "bedrag"),
    }
    messages = {p.row: p.message for p in report.problems}
    assert "boats" in messages[2] and "bikes" in messages[2]
    assert "negative" in messages[3]
    assert "two decimals" in messages[5]
    # All or nothing: not even the good row, nor any tag, is written.
    assert not report.committed
    assert Contact.objects.count() == 0 and Purchase.objects.count() == 0
    assert Tag.objects.count() == 0 and ConsentEvent.objects.count() == 0


def test_with_valid_only_a_refused_row_is_not_half_written(newsletter, bikes, write_csv):
    path = write_csv(
        "shop.csv",
        HEADER
        + "a@example.com,A,2026-03-01,Fiets,boats,10,,ja,nieuw\n"
        + "m@example.com,M,2026-03-01,Fiets,bikes,12.50,,ja,fine\n",
    )
    report = do_import(path, valid_only=True)
    assert report.committed and report.problem_count == 1
    # Row 2 (unknown category) left no contact, no consent, no tag behind.
    assert not Contact.objects.filter(email="a@example.com").exists()
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["fine"]
    assert purchases_of("m@example.com") == [
        (date(2026, 3, 1), "Fiets", "bikes", Decimal("12.50"), "", True)
    ]


def test_a_dry_run_keeps_no_purchase_and_no_tag(newsletter, bikes, write_csv):
    path = write_csv("shop.csv", HEADER + "m@example.com,M,2026-03-01,Fiets,bikes,12.50,,ja,t\n")
    report = do_import(path, dry_run=True)
    assert report.purchases == 1 and report.tagged == 1 and not report.committed
    assert Purchase.objects.count() == 0 and Tag.objects.count() == 0


def test_a_purchase_column_without_date_and_description_columns_is_refused(newsletter, write_csv):
    path = write_csv("shop.csv", "email,bedrag\nm@example.com,12.50\n")
    with pytest.raises(ImportError_) as error:
        do_import(path)
    assert "purchase_date" in str(error.value) and "purchase_description" in str(error.value)


def test_an_xlsx_file_with_date_and_number_cells(newsletter, bikes, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["email", "purchase_date", "purchase_description", "purchase_amount", "tags"])
    sheet.append(["x@example.com", date(2026, 5, 4), "Fiets", 799.95, "klant"])
    sheet.append(["y@example.com", date(2026, 5, 5), "Bel", 5, ""])
    path = tmp_path / "shop.xlsx"
    book.save(path)
    report = do_import(path)
    assert report.problem_count == 0, report.problems
    assert purchases_of("x@example.com") == [
        (date(2026, 5, 4), "Fiets", "uncategorised", Decimal("799.95"), "", False)
    ]
    assert purchases_of("y@example.com") == [
        (date(2026, 5, 5), "Bel", "uncategorised", Decimal("5.00"), "", False)
    ]
    assert tags_of("x@example.com") == ["klant"] and tags_of("y@example.com") == []
