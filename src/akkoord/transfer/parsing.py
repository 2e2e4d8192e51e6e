"""Reading one row of an import file: each cell checked and cleaned, or the
problems by row and column.

``RowParser.parse`` turns a ``SourceRow`` into a ``ParsedRow`` (the values the
writer needs) or a list of ``Problem``; it reads nothing but the row and the
organisation's purposes, fields and product categories, and writes nothing.
"""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from akkoord.consent.models import Purpose
from akkoord.contacts.emails import normalise_email
from akkoord.contacts.models import FieldKind, Language, ProductCategory
from akkoord.contacts.services import CORE_FIELDS, clean_amount, clean_field_value
from akkoord.lib.text import FORMULA_START, has_control_characters
from akkoord.segments.services import MAX_TAG_LENGTH
from akkoord.transfer import formats
from akkoord.transfer.reading import SourceRow

_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%Y-%m-%d",
)


@dataclass
class Problem:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = _("row %(row)d") % {"row": self.row}
        if self.column:
            where += ", " + _("column %(column)s") % {"column": self.column}
        return f"{where}: {self.message}"


@dataclass
class ParsedRow:
    number: int
    email: str
    data: dict
    fields: dict
    purposes: list[Purpose]
    optin_time: datetime | None = None
    optin_ip: str = ""
    confirm_time: datetime | None = None
    confirm_ip: str = ""
    status: str = ""
    unsub_time: datetime | None = None
    # purchased_on, description, category, amount, reference, objection_offered
    purchase: dict = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)


def parse_time(value) -> datetime:
    """A time from a file: ISO 8601 or the formats the known exports use; naive = UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        moment = None
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            for pattern in _DATE_FORMATS:
                try:
                    moment = datetime.strptime(text, pattern)
                    break
                except ValueError:
                    continue
        if moment is None:
            raise ValueError(
                _("%(value)s is not a date and time (use YYYY-MM-DD HH:MM:SS).")
                % {"value": text[:40]}
            )
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    if moment > timezone.now() + timedelta(days=1):
        raise ValueError(_("This time lies in the future."))
    if moment.year < 1990:
        raise ValueError(_("This time is implausibly early."))
    return moment


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _clean_text(value, max_length: int) -> str:
    """A text cell: no control characters, no formulas, not too long."""
    raw = _text(value)
    if raw.startswith(FORMULA_START) and raw.strip():
        raise ValueError(
            _("This cell starts with %(char)r and would run as a formula in a spreadsheet.")
            % {"char": raw[0]}
        )
    text = raw.strip()
    if has_control_characters(text):
        raise ValueError(_("Must not contain line breaks, tabs or control characters."))
    if len(text) > max_length:
        raise ValueError(
            _("At most %(max)d characters (this has %(n)d).") % {"max": max_length, "n": len(text)}
        )
    return text


def _clean_language(value) -> str:
    text = _text(value).strip().lower().replace("-", "_")
    if not text:
        return Language.NL
    code = text.split("_")[0]
    aliases = {"dutch": "nl", "nederlands": "nl", "english": "en", "engels": "en"}
    code = aliases.get(code, code)
    if code not in Language.values:
        raise ValueError(
            _("Unknown language %(value)s; Akkoord knows: %(choices)s.")
            % {"value": text[:20], "choices": ", ".join(Language.values)}
        )
    return code


def _clean_ip(value) -> str:
    text = _text(value).strip()
    if not text:
        return ""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ValueError(_("%(value)s is not an IP address.") % {"value": text[:45]}) from None


_YES = {"yes", "y", "ja", "j", "true", "waar", "1"}
_NO = {"no", "n", "nee", "false", "onwaar", "0"}


def _clean_day(value) -> date:
    """A purchase date: a date cell, YYYY-MM-DD or DD-MM-YYYY; not in the future."""
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        text = _text(value).strip()
        for pattern in ("%Y-%m-%d", "%d-%m-%Y"):
            try:
                day = datetime.strptime(text, pattern).date()
                break
            except ValueError:
                continue
        else:
            raise ValueError(_("%(value)s is not a date (use YYYY-MM-DD).") % {"value": text[:40]})
    if day > timezone.localdate():
        raise ValueError(_("A purchase cannot be in the future."))
    if day.year < 1990:
        raise ValueError(_("This date is implausibly early."))
    return day


def _clean_amount(value) -> Decimal | None:
    """A purchase amount: a number cell, or text with a decimal point or comma (12.50, 12,50)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(_("Give the amount as a number, e.g. 12.50."))
        value = repr(value)  # a spreadsheet's number: 12.5 reads as "12.5"
    elif not isinstance(value, int) or isinstance(value, bool):
        value = _text(value).strip()
        if value.count(",") == 1 and "." not in value:
            value = value.replace(",", ".")  # the Dutch decimal comma
    return clean_amount(value)  # ValidationError on "amount" with the reason


def _clean_yes_no(value) -> bool:
    text = _text(value).strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(_("Write yes or no (or ja, nee)."))


def _clean_tags(value) -> list[str]:
    """Comma-separated tag names (quotes around a name are dropped)."""
    text = _clean_text(value, 2000)
    names = {name.strip().strip('"').strip() for name in text.split(",")}
    names.discard("")
    too_long = sorted(name for name in names if len(name) > MAX_TAG_LENGTH)
    if too_long:
        raise ValueError(
            _("A tag has at most %(max)d characters: %(name)s")
            % {"max": MAX_TAG_LENGTH, "name": too_long[0][:60]}
        )
    return sorted(names)


class RowParser:
    """Turns the cells of one row into a validated ``ParsedRow`` or problems."""

    def __init__(self, header, mapping, purpose, purposes_by_key, fields_by_key):
        self.columns = [
            (index, column, mapping.get(column, "ignore")) for index, column in enumerate(header)
        ]
        self.columns = [c for c in self.columns if c[2] != "ignore"]
        self.header = list(header)
        self.purpose = purpose
        self.purposes_by_key = purposes_by_key
        self.fields_by_key = fields_by_key
        self.categories_by_key = (
            {c.key: c for c in ProductCategory.objects.all()}
            if any(target == "purchase_category" for _i, _c, target in self.columns)
            else {}
        )

    def _column_name(self, index: int) -> str:
        return self.header[index] if index < len(self.header) else str(index + 1)

    def parse(self, source_row: SourceRow) -> tuple[ParsedRow | None, list[Problem]]:
        number = source_row.number
        problems = [Problem(number, "", message) for message in source_row.problems]
        problems += [
            Problem(number, self._column_name(index), message)
            for index, message in source_row.cell_problems
        ]
        if problems:
            return None, problems
        row = ParsedRow(number, "", {}, {}, [self.purpose] if self.purpose else [])
        cells = source_row.cells
        for index, column, target in self.columns:
            value = cells[index] if index < len(cells) else ""
            try:
                self._apply(row, target, value)
            except ValidationError as error:
                problems.append(Problem(number, column, " ".join(error.messages)))
            except ValueError as error:
                problems.append(Problem(number, column, str(error)))
        if not problems:
            problems.extend(self._cross_checks(row))
        if not row.purposes and not problems:
            problems.append(Problem(number, "", _("No purpose for this row.")))
        return (None if problems else row), problems

    def _apply(self, row: ParsedRow, target: str, value) -> None:
        if target == "email":
            row.email = normalise_email(_text(value))
        elif target in CORE_FIELDS:
            row.data[target] = _clean_text(value, CORE_FIELDS[target])
        elif target == "name":
            first, _sep, last = _clean_text(value, 250).partition(" ")
            row.data["first_name"] = _clean_text(first, CORE_FIELDS["first_name"])
            row.data["last_name"] = _clean_text(last.strip(), CORE_FIELDS["last_name"])
        elif target == "language":
            row.data["language"] = _clean_language(value)
        elif target.startswith("fields."):
            contact_field = self.fields_by_key[target.removeprefix("fields.")]
            if contact_field.kind == FieldKind.TEXT:
                text = _clean_text(value, contact_field.max_length)
            else:
                text = value
            cleaned = clean_field_value(contact_field, text)
            if cleaned:
                row.fields[contact_field.key] = cleaned
        elif target in ("optin_time", "confirm_time", "unsub_time"):
            if _text(value).strip():
                setattr(row, target, parse_time(value))
        elif target == "clean_time":
            # Mailchimp's "cleaned" export: the address bounced.
            if _text(value).strip():
                row.unsub_time = parse_time(value)
                row.status = "cleaned"
        elif target in ("optin_ip", "confirm_ip"):
            setattr(row, target, _clean_ip(value))
        elif target == "status":
            status = _text(value).strip().lower()
            if status not in formats.SUBSCRIBED | formats.UNSUBSCRIBED | formats.BOUNCED:
                raise ValueError(
                    _("Unknown subscription status %(value)s.") % {"value": status[:30]}
                )
            row.status = status
        elif target == "purposes":
            keys = [k.strip() for k in re.split(r"[,;|]", _text(value)) if k.strip()]
            unknown = [k for k in keys if k not in self.purposes_by_key]
            if unknown:
                raise ValueError(
                    _("Unknown purpose %(keys)s; known purposes: %(choices)s.")
                    % {"keys": ", ".join(unknown)[:100], "choices": ", ".join(self.purposes_by_key)}
                )
            if keys:
                row.purposes = [self.purposes_by_key[k] for k in keys]
        elif target == "purchase_date":
            if _text(value).strip():
                row.purchase["purchased_on"] = _clean_day(value)
        elif target in ("purchase_description", "purchase_reference"):
            text = _clean_text(value, 200 if target == "purchase_description" else 100)
            if text:
                row.purchase[target.removeprefix("purchase_")] = text
        elif target == "purchase_category":
            key = _clean_text(value, 50)
            if key:
                if key not in self.categories_by_key:
                    raise ValueError(
                        _("There is no product category with the key %(key)s; known: %(known)s.")
                        % {
                            "key": key,
                            "known": ", ".join(sorted(self.categories_by_key))[:300] or "-",
                        }
                    )
                row.purchase["category"] = self.categories_by_key[key]
        elif target == "purchase_amount":
            amount = _clean_amount(value)
            if amount is not None:
                row.purchase["amount"] = amount
        elif target == "purchase_objection_offered":
            if _text(value).strip():
                row.purchase["objection_offered"] = _clean_yes_no(value)
        elif target == "tags":
            row.tags = _clean_tags(value)

    def _cross_checks(self, row: ParsedRow) -> list[Problem]:
        problems = []
        if row.unsub_time is not None and row.status in formats.SUBSCRIBED:
            # An unsubscribe time without a status (Mailchimp's "unsubscribed"
            # export) means the person unsubscribed: never import it as consent.
            row.status = "unsubscribed"
        column_of = {target: column for _i, column, target in self.columns}
        if row.optin_time and row.confirm_time and row.confirm_time < row.optin_time:
            problems.append(
                Problem(
                    row.number,
                    column_of.get("confirm_time", ""),
                    _("The confirmation lies before the opt-in."),
                )
            )
        if row.optin_ip and not (row.optin_time or row.confirm_time):
            problems.append(
                Problem(
                    row.number,
                    column_of.get("optin_time", column_of.get("optin_ip", "")),
                    _("An opt-in IP address without an opt-in time is no proof; add the time."),
                )
            )
        details = set(row.purchase) - {"objection_offered"}
        if details and "purchased_on" not in details:
            problems.append(
                Problem(
                    row.number,
                    column_of.get("purchase_date", ""),
                    _("This row has purchase details but no date of purchase."),
                )
            )
        elif details and "description" not in details:
            problems.append(
                Problem(
                    row.number,
                    column_of.get("purchase_description", ""),
                    _("Say what was bought."),
                )
            )
        if not details:
            row.purchase = {}  # "offered the chance to object" alone is no purchase
        return problems
