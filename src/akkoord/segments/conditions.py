"""Segment definitions turned into one database condition on contacts.

A definition is a group ``{"match": "all"|"any", "conditions": [...]}``; each
condition is a group again or one test ``{"field", "op", "value"}``:

========================  ==========================  =========================================
field                     op                          value
========================  ==========================  =========================================
email, first_name,        equals, contains,           text (none for the emptiness tests)
last_name,                starts_with, is_empty,
organisation_name,        is_not_empty
source_detail
field:<key>               (same as above)             a configured contact field's value
language, source_kind     equals, not_equals          "nl", "en" / "form", "import", ...
created_at                on_or_after, before         "YYYY-MM-DD"
tag                       has, has_not                a tag name
purchase                  has, has_not                {"categories": [keys], "on_or_after",
                                                      "before", "min_count", "min_amount",
                                                      "min_total"} (all optional; see below)
consent                   has, has_not                {"purpose": id, "status" (default
                                                      "granted"), "granted_on_or_after",
                                                      "granted_before"}
campaign                  received, not_received      a campaign id (a mail actually sent)
========================  ==========================  =========================================

The purchase options narrow which purchases count, then test them together:
``categories`` (keys), ``on_or_after`` and ``before`` (dates) and
``min_amount`` (each purchase cost at least this much; purchases without an
amount never count then) pick the purchases; "has" means at least
``min_count`` (default 1) of them whose amounts add up to at least
``min_total`` (a purchase without an amount adds 0). "has_not" is the
opposite: fewer, or a smaller total. Amounts are JSON numbers (not text),
0 up to 9,999,999,999.99 with at most two decimals, in the organisation's
currency.

Everything is checked before a query is built: a bad definition raises
``SegmentError`` with a message a staff user can act on. An empty "all" group
matches everyone, an empty "any" group nobody.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from akkoord.contacts.models import Contact, ContactFieldValue, Language, Purchase, SourceKind
from akkoord.contacts.services import MAX_AMOUNT
from akkoord.lib.db import MAX_ID
from akkoord.segments.models import Tag

TEXT_FIELDS = ("email", "first_name", "last_name", "organisation_name", "source_detail")
TEXT_OPS = ("equals", "contains", "starts_with", "is_empty", "is_not_empty")
CHOICE_FIELDS = {"language": Language.values, "source_kind": SourceKind.values}
MAX_DEPTH = 5
MAX_CONDITIONS = 50


class SegmentError(ValueError):
    """The definition cannot be used; the message says why."""


def matching_contacts(definition: dict, contacts: QuerySet | None = None) -> QuerySet:
    """The contacts (of ``contacts``, default all) that meet ``definition``."""
    contacts = Contact.objects.all() if contacts is None else contacts
    return contacts.filter(condition(definition))


def condition(definition: dict) -> Q:
    """The whole definition as one ``Q`` on ``Contact``."""
    counter = [0]
    return _group(definition, depth=1, counter=counter)


def validate(definition) -> None:
    """Raises ``SegmentError`` when ``definition`` cannot be used."""
    condition(definition)


def _group(node, *, depth: int, counter: list[int]) -> Q:
    if not isinstance(node, dict) or "conditions" not in node:
        raise SegmentError(_("A group needs a list of conditions."))
    match = node.get("match", "all")
    if match not in ("all", "any"):
        raise SegmentError(_('A group matches "all" or "any" of its conditions.'))
    if depth > MAX_DEPTH:
        raise SegmentError(_("Groups can be nested at most %(n)s deep.") % {"n": MAX_DEPTH})
    parts = node["conditions"]
    if not isinstance(parts, list):
        raise SegmentError(_("A group needs a list of conditions."))
    qs = []
    for part in parts:
        counter[0] += 1
        if counter[0] > MAX_CONDITIONS:
            raise SegmentError(_("A segment has at most %(n)s conditions.") % {"n": MAX_CONDITIONS})
        if isinstance(part, dict) and "conditions" in part:
            qs.append(_group(part, depth=depth + 1, counter=counter))
        else:
            qs.append(_test(part))
    if not qs:
        return Q() if match == "all" else Q(pk__in=[])
    combined = qs[0]
    for q in qs[1:]:
        combined = combined & q if match == "all" else combined | q
    return combined


def _test(node) -> Q:
    if not isinstance(node, dict):
        raise SegmentError(_("Each condition names a field, a test and a value."))
    field, op, value = node.get("field"), node.get("op"), node.get("value")
    if field in TEXT_FIELDS:
        return _text(field, op, value)
    if isinstance(field, str) and field.startswith("field:"):
        return _custom_field(field.removeprefix("field:"), op, value)
    if field in CHOICE_FIELDS:
        return _choice(field, op, value)
    if field == "created_at":
        return _dated("created_at__date", op, value)
    if field == "tag":
        return _tag(op, value)
    if field == "purchase":
        return _purchase(op, value)
    if field == "consent":
        return _consent(op, value)
    if field == "campaign":
        return _campaign(op, value)
    raise SegmentError(_("Unknown field in a condition: %(field)s") % {"field": str(field)[:50]})


def _text_q(lookup_base: str, op, value) -> Q:
    if op == "is_empty":
        return Q(**{lookup_base: ""})
    if op == "is_not_empty":
        return ~Q(**{lookup_base: ""})
    if op not in TEXT_OPS:
        raise SegmentError(_("Unknown test for a text field: %(op)s") % {"op": str(op)[:30]})
    if not isinstance(value, str) or not value.strip():
        raise SegmentError(_("Give a text to compare with."))
    lookup = {"equals": "iexact", "contains": "icontains", "starts_with": "istartswith"}[op]
    return Q(**{f"{lookup_base}__{lookup}": value.strip()})


def _text(field: str, op, value) -> Q:
    return _text_q(field, op, value)


def _custom_field(key: str, op, value) -> Q:
    values = ContactFieldValue.objects.filter(contact=OuterRef("pk"), field__key=key)
    if op == "is_empty":
        return Q(~Exists(values.exclude(value="")))
    if op == "is_not_empty":
        return Q(Exists(values.exclude(value="")))
    inner = _text_q("value", op, value)
    return Q(Exists(values.filter(inner)))


def _choice(field: str, op, value) -> Q:
    if value not in CHOICE_FIELDS[field]:
        raise SegmentError(
            _("Unknown value for %(field)s: %(value)s") % {"field": field, "value": str(value)[:30]}
        )
    if op == "equals":
        return Q(**{field: value})
    if op == "not_equals":
        return ~Q(**{field: value})
    raise SegmentError(_("Unknown test: %(op)s") % {"op": str(op)[:30]})


def _day(value, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise SegmentError(_("%(what)s: give a date as YYYY-MM-DD.") % {"what": what}) from None


def _dated(lookup: str, op, value) -> Q:
    day = _day(value, lookup.split("__")[0])
    if op == "on_or_after":
        return Q(**{f"{lookup}__gte": day})
    if op == "before":
        return Q(**{f"{lookup}__lt": day})
    raise SegmentError(_("Unknown test for a date: %(op)s") % {"op": str(op)[:30]})


def _has(op, exists: Q) -> Q:
    if op == "has":
        return exists
    if op == "has_not":
        return ~exists
    raise SegmentError(_('Use "has" or "has_not" here, not %(op)s.') % {"op": str(op)[:30]})


def _tag(op, value) -> Q:
    if not isinstance(value, str) or not value.strip():
        raise SegmentError(_("Give the name of a tag."))
    tagged = Tag.contacts.through.objects.filter(contact=OuterRef("pk"), tag__name=value.strip())
    return _has(op, Q(Exists(tagged)))


def _options(value, allowed: set[str]) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SegmentError(_("This condition takes a set of options."))
    unknown = set(value) - allowed
    if unknown:
        raise SegmentError(_("Unknown option: %(name)s") % {"name": sorted(unknown)[0][:30]})
    return value


PURCHASE_OPTIONS = {"categories", "on_or_after", "before", "min_count", "min_amount", "min_total"}


def _purchase(op, value) -> Q:
    options = _options(value, PURCHASE_OPTIONS)
    purchases = Purchase.objects.all()
    categories = options.get("categories")
    if categories is not None:
        if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
            raise SegmentError(_("Give the product categories as a list of keys."))
        purchases = purchases.filter(category__key__in=categories)
    if options.get("on_or_after"):
        purchases = purchases.filter(purchased_on__gte=_day(options["on_or_after"], "on_or_after"))
    if options.get("before"):
        purchases = purchases.filter(purchased_on__lt=_day(options["before"], "before"))
    min_amount = _amount(options, "min_amount")
    if min_amount is not None:
        purchases = purchases.filter(amount__gte=min_amount)
    min_count = options.get("min_count", 1)
    if not _whole_number(min_count):
        raise SegmentError(_("The number of purchases must be a whole number of at least 1."))
    min_total = _amount(options, "min_total")
    if min_count == 1 and min_total is None:
        return _has(op, Q(Exists(purchases.filter(contact=OuterRef("pk")))))
    # Per contact: how many of the chosen purchases, and what they add up to.
    grouped = purchases.order_by().values("contact").annotate(n=Count("id"))
    grouped = grouped.filter(n__gte=min_count)
    if min_total is not None:
        grouped = grouped.annotate(total=Sum("amount", default=Decimal(0)))
        grouped = grouped.filter(total__gte=min_total)
    return _has(op, Q(pk__in=grouped.values("contact")))


def _amount(options: dict, name: str) -> Decimal | None:
    """An amount option: a JSON number from 0 to the largest amount, two decimals at most."""
    if name not in options:
        return None
    value = options[name]
    problem = SegmentError(
        _("%(name)s: give an amount as a number from 0 to %(max)s, with at most two decimals.")
        % {"name": name, "max": f"{MAX_AMOUNT}"}
    )
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise problem
    if isinstance(value, float) and not math.isfinite(value):
        raise problem
    # An int is exact; a float as the shortest text that reads back the same (0.1 is "0.1").
    amount = Decimal(value) if isinstance(value, int) else Decimal(repr(value))
    if amount < 0 or amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        raise problem
    return amount


def _whole_number(value) -> bool:
    """An id or count a query can hold: 1 up to the largest 64-bit integer."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def _consent(op, value) -> Q:
    from akkoord.consent.models import ConsentState
    from akkoord.consent.rules import ConsentStatus

    options = _options(value, {"purpose", "status", "granted_on_or_after", "granted_before"})
    purpose = options.get("purpose")
    if not _whole_number(purpose):
        raise SegmentError(_("Name the purpose (its number) of a consent condition."))
    status = options.get("status", ConsentStatus.GRANTED.value)
    if status not in {s.value for s in ConsentStatus}:
        raise SegmentError(_("Unknown consent status: %(status)s") % {"status": str(status)[:30]})
    states = ConsentState.objects.filter(contact=OuterRef("pk"), purpose_id=purpose, status=status)
    if options.get("granted_on_or_after"):
        day = _day(options["granted_on_or_after"], "granted_on_or_after")
        states = states.filter(granted_at__date__gte=day)
    if options.get("granted_before"):
        states = states.filter(
            granted_at__date__lt=_day(options["granted_before"], "granted_before")
        )
    return _has(op, Q(Exists(states)))


def _campaign(op, value) -> Q:
    from akkoord.campaigns.models import Delivery, DeliveryStatus

    if not _whole_number(value):
        raise SegmentError(_("Name the campaign (its number)."))
    sent = Delivery.objects.filter(
        contact=OuterRef("pk"), campaign_id=value, status=DeliveryStatus.SENT
    )
    if op == "received":
        return Q(Exists(sent))
    if op == "not_received":
        return Q(~Exists(sent))
    raise SegmentError(
        _('Use "received" or "not_received" here, not %(op)s.') % {"op": str(op)[:30]}
    )
