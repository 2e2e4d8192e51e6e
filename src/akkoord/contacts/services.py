"""Creating and changing contacts: validation, timeline and audit in one place.

Every write to a contact goes through these functions, whatever the way in
(staff pages, forms, API, import), so the rules are the same everywhere and
nothing is half-written: each function validates everything first and then
writes in one transaction.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from akkoord.consent.models import Suppression
from akkoord.contacts.emails import email_hash, normalise_email
from akkoord.contacts.models import (
    AMOUNT_DECIMAL_PLACES,
    AMOUNT_MAX_DIGITS,
    Activity,
    ActivityKind,
    Contact,
    ContactField,
    ContactFieldValue,
    FieldKind,
    Language,
    ProductCategory,
    Purchase,
    SourceKind,
)
from akkoord.contacts.signals import contact_registered
from akkoord.lib.text import has_control_characters

CORE_FIELDS = {"first_name": 100, "last_name": 150, "organisation_name": 200}
_PHONE = re.compile(r"^\+?[0-9 ()\-.]{6,30}$")
MAX_AMOUNT = Decimal(10) ** (AMOUNT_MAX_DIGITS - AMOUNT_DECIMAL_PLACES) - Decimal("0.01")


def _clean_line(name: str, value, max_length: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError({name: _("Must be text.")})
    value = value.strip()
    if has_control_characters(value):
        raise ValidationError({name: _("Must not contain line breaks or control characters.")})
    if len(value) > max_length:
        raise ValidationError(
            {
                name: _("At most %(max)d characters (this has %(n)d).")
                % {"max": max_length, "n": len(value)}
            }
        )
    return value


def clean_field_value(field: ContactField, value) -> str:
    """Validate one configured field; returns the stored (string) form."""
    if isinstance(value, date) and field.kind == FieldKind.DATE:
        return value.isoformat()
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and field.kind == FieldKind.NUMBER
    ):
        value = str(value)
    text = _clean_line(field.key, value, field.max_length)
    if not text:
        return ""
    if field.kind == FieldKind.DATE:
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValidationError({field.key: _("Enter a date as YYYY-MM-DD.")}) from None
    if field.kind == FieldKind.NUMBER:
        try:
            float(text.replace(",", "."))
        except ValueError:
            raise ValidationError({field.key: _("Enter a number.")}) from None
        return text
    if field.kind == FieldKind.PHONE and not _PHONE.match(text):
        raise ValidationError({field.key: _("Enter a phone number (digits, spaces, + and -).")})
    return text


def clean_contact_data(data: dict, *, partial: bool = False) -> dict:
    """Validate contact data from any channel; raises one ValidationError with
    every problem by field. Unknown keys are refused (data minimisation)."""
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    active_fields = {f.key: f for f in ContactField.objects.filter(is_active=True)}
    known = {"email", "language", *CORE_FIELDS, "fields"}
    for key in data:
        if key not in known:
            errors.setdefault(key, []).append(_("Unknown field."))

    def attempt(key, fn):
        try:
            cleaned[key] = fn()
        except ValidationError as error:
            for field_name, messages in error.message_dict.items():
                errors.setdefault(field_name if field_name != "__all__" else key, []).extend(
                    messages
                )

    if "email" in data or not partial:
        attempt("email", lambda: _clean_email(data.get("email")))
    for key, max_length in CORE_FIELDS.items():
        if key in data:
            attempt(key, lambda k=key, m=max_length: _clean_line(k, data[k], m))
    if "language" in data:
        attempt("language", lambda: _clean_language(data["language"]))
    raw_fields = data.get("fields") or {}
    if not isinstance(raw_fields, dict):
        errors.setdefault("fields", []).append(_("Must be an object of field names and values."))
        raw_fields = {}
    values = {}
    for key, value in raw_fields.items():
        field = active_fields.get(key)
        if field is None:
            errors.setdefault(f"fields.{key}", []).append(
                _("This organisation does not store a field called %(key)s.")
                % {"key": str(key)[:50]}
            )
            continue
        try:
            values[key] = clean_field_value(field, value)
        except ValidationError as error:
            for messages in error.message_dict.values():
                errors.setdefault(f"fields.{key}", []).extend(messages)
    if raw_fields:
        cleaned["fields"] = values
    if errors:
        raise ValidationError(errors)
    return cleaned


def _clean_email(value) -> str:
    try:
        return normalise_email(value if value is not None else "")
    except ValidationError as error:
        raise ValidationError({"email": error.messages}) from None


def _clean_language(value) -> str:
    if value not in Language.values:
        raise ValidationError(
            {"language": _("Choose one of: %(choices)s.") % {"choices": ", ".join(Language.values)}}
        )
    return value


def find_contact(email: str) -> Contact | None:
    try:
        return Contact.objects.filter(email=normalise_email(email)).first()
    except ValidationError:
        return None


def register_contact(
    data: dict,
    *,
    source_kind: SourceKind | str,
    source_detail: str = "",
    actor: str = "",
    collected_from_person: bool = True,
    existing_ok: bool = False,
) -> tuple[Contact, bool]:
    """Create a contact from validated data; returns ``(contact, created)``.

    With ``existing_ok`` an existing contact with the same address is returned
    unchanged (sign-up forms); otherwise a duplicate is a ValidationError.
    """
    cleaned = clean_contact_data(data)
    email = cleaned["email"]
    existing = Contact.objects.filter(email=email).first()
    if existing is not None:
        if existing_ok:
            return existing, False
        raise ValidationError({"email": _("A contact with this e-mail address already exists.")})
    try:
        with transaction.atomic():
            contact = Contact.objects.create(
                email=email,
                email_hash=email_hash(email),
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
                organisation_name=cleaned.get("organisation_name", ""),
                language=cleaned.get("language", Language.NL),
                source_kind=source_kind,
                source_detail=source_detail[:200],
                collected_from_person=collected_from_person,
            )
            _write_field_values(contact, cleaned.get("fields", {}))
            Activity.objects.create(
                contact=contact,
                kind=ActivityKind.CREATED,
                actor=actor[:200],
                summary="registered",
                data={"source": str(source_kind), "detail": source_detail[:200]},
            )
            transaction.on_commit(
                lambda: contact_registered.send(Contact, contact=contact, channel=str(source_kind))
            )
    except IntegrityError:
        # Lost a race with another request registering the same address.
        if existing_ok:
            return Contact.objects.get(email=email), False
        raise ValidationError(
            {"email": _("A contact with this e-mail address already exists.")}
        ) from None
    return contact, True


def _write_field_values(contact: Contact, values: dict[str, str]) -> None:
    fields = {f.key: f for f in ContactField.objects.filter(key__in=values)}
    for key, value in values.items():
        if value == "":
            ContactFieldValue.objects.filter(contact=contact, field=fields[key]).delete()
        else:
            ContactFieldValue.objects.update_or_create(
                contact=contact, field=fields[key], defaults={"value": value}
            )


def field_values(contact: Contact) -> dict[str, str]:
    return {v.field.key: v.value for v in contact.field_values.select_related("field")}


def update_contact(contact: Contact, data: dict, *, actor: str, via: str = "staff") -> dict:
    """Change a contact; each changed value is an activity with old and new value.

    Returns the changes as ``{field: [old, new]}``.
    """
    cleaned = clean_contact_data(data, partial=True)
    changes: dict[str, list[str]] = {}
    if "email" in cleaned and cleaned["email"] != contact.email:
        if Contact.objects.filter(email=cleaned["email"]).exclude(pk=contact.pk).exists():
            raise ValidationError(
                {"email": _("A contact with this e-mail address already exists.")}
            )
        changes["email"] = [contact.email, cleaned["email"]]
    for key in (*CORE_FIELDS, "language"):
        if key in cleaned and cleaned[key] != getattr(contact, key):
            changes[key] = [getattr(contact, key), cleaned[key]]
    current = field_values(contact)
    new_fields = cleaned.get("fields", {})
    for key, value in new_fields.items():
        if current.get(key, "") != value:
            changes[f"fields.{key}"] = [current.get(key, ""), value]
    if not changes:
        return {}
    with transaction.atomic():
        if "email" in changes:
            _leave_address(contact, *changes["email"])
        for key, (_old, new) in changes.items():
            if key == "email":
                contact.email = new
                contact.email_hash = email_hash(new)
            elif not key.startswith("fields."):
                setattr(contact, key, new)
        contact.save()
        _write_field_values(
            contact, {k: v for k, v in new_fields.items() if f"fields.{k}" in changes}
        )
        Activity.objects.create(
            contact=contact,
            kind=ActivityKind.CHANGED,
            actor=actor[:200],
            summary="changed: " + ", ".join(sorted(changes)),
            data={"via": via, "changes": changes},
        )
    return changes


ADDRESS_CHANGED = "address_changed"


def _leave_address(contact: Contact, old: str, new: str) -> None:
    """Suppress the address a contact changes away from; lift it when they return.

    The consents and the customer relationship belong to the person, who now
    reads mail at the new address. The old address may reach someone else, or
    come back in an old list marked "had consent": on the suppression list it
    is kept out of imports, and only a consent confirmed by double opt-in after
    today mails it again. The engine looks suppressions up by a contact's
    current address, so the person under the new address is not affected.

    A person who goes back to an address they left themselves (a typo undone)
    takes it back: that suppression only stood for them. A suppression for any
    other reason (erasure) stays.
    """
    # From now on: a consent confirmed before today was not given for
    # whoever reads this address next. An erasure's reason is kept.
    kept = Suppression.objects.filter(email_hash=email_hash(old)).update(created_at=timezone.now())
    if not kept:
        Suppression.objects.create(email_hash=email_hash(old), reason=ADDRESS_CHANGED)
    returning = Suppression.objects.filter(email_hash=email_hash(new), reason=ADDRESS_CHANGED)
    if returning.exists() and _has_left(contact, new):
        returning.delete()


def _has_left(contact: Contact, address: str) -> bool:
    """Whether the contact's own timeline shows it changing away from ``address``."""
    changes = contact.activities.filter(kind=ActivityKind.CHANGED).values_list("data", flat=True)
    return any(
        (data or {}).get("changes", {}).get("email", [None])[0] == address for data in changes
    )


def record_purchase(
    contact: Contact,
    *,
    purchased_on: date,
    description: str,
    reference: str = "",
    objection_offered: bool,
    actor: str = "",
    recorded_by=None,
    source_kind: SourceKind | str = SourceKind.STAFF,
    category: ProductCategory | str | None = None,
    amount: Decimal | int | str | None = None,
) -> Purchase:
    """Record a sale and update the customer relationship it founds.

    ``category`` is a ``ProductCategory`` or its key; without one the sale is
    "uncategorised" (which carries the soft opt-in only for campaigns that name
    that category). ``amount`` (optional) is what it cost, in the
    organisation's currency; see ``clean_amount``.
    """
    errors = {}
    try:
        category = resolve_category(category)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        amount = clean_amount(amount)
    except ValidationError as error:
        errors.update(error.message_dict)
    if not isinstance(purchased_on, date):
        errors["purchased_on"] = [_("Enter a date.")]
    elif purchased_on > timezone.localdate():
        errors["purchased_on"] = [_("A purchase cannot be in the future.")]
    try:
        description = _clean_line("description", description, 200)
        if not description:
            errors["description"] = [_("Say what was bought.")]
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        reference = _clean_line("reference", reference, 100)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        purchase = Purchase.objects.create(
            contact=contact,
            purchased_on=purchased_on,
            description=description,
            reference=reference,
            amount=amount,
            objection_offered=bool(objection_offered),
            category=category,
            source_kind=source_kind,
            recorded_by=recorded_by,
        )
        refresh_customer_relationship(contact)
        Activity.objects.create(
            contact=contact,
            kind=ActivityKind.PURCHASE,
            actor=actor[:200],
            summary=f"purchase on {purchased_on.isoformat()}",
            data={
                "purchase": purchase.pk,
                "purchased_on": purchased_on.isoformat(),
                "description": description,
                "category": category.key,
                "amount": None if amount is None else str(amount),
                "objection_offered": bool(objection_offered),
            },
        )
    return purchase


def clean_amount(value) -> Decimal | None:
    """A purchase amount: empty (``None`` or blank) or a non-negative number with at
    most two decimals, below ten billion. ``ValidationError`` on ``amount`` otherwise.

    Accepts a ``Decimal``, an ``int`` or a text such as ``"12.50"``; not a float
    (binary fractions are not money) and not a bool.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise ValidationError({"amount": [_("Give the amount as a number, e.g. 12.50.")]})
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise ValidationError({"amount": [_("Give the amount as a number, e.g. 12.50.")]}) from None
    if not amount.is_finite():
        raise ValidationError({"amount": [_("Give the amount as a number, e.g. 12.50.")]})
    if amount < 0:
        raise ValidationError({"amount": [_("An amount cannot be negative.")]})
    if amount > MAX_AMOUNT:
        raise ValidationError(
            {
                "amount": [
                    _("An amount is at most %(max)s.")
                    % {"max": number_format(MAX_AMOUNT, 2, use_l10n=True, force_grouping=True)}
                ]
            }
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({"amount": [_("An amount has at most two decimals.")]})
    return abs(amount).quantize(Decimal("0.01"))  # abs: no "-0.00"


def resolve_category(category: ProductCategory | str | None) -> ProductCategory:
    """A purchase's category from a category, its key, or nothing ("uncategorised")."""
    if isinstance(category, ProductCategory):
        return category
    if category is None or (isinstance(category, str) and not category.strip()):
        return ProductCategory.uncategorised()
    if not isinstance(category, str):
        raise ValidationError({"category": [_("Give the key of a product category.")]})
    found = ProductCategory.objects.filter(key=category.strip()).first()
    if found is None:
        raise ValidationError(
            {
                "category": [
                    _("There is no product category with the key %(key)s.")
                    % {"key": category.strip()[:50]}
                ]
            }
        )
    return found


def refresh_customer_relationship(contact: Contact) -> None:
    """Recompute the derived customer fields from the contact's purchases."""
    purchases = list(contact.purchases.values_list("purchased_on", "objection_offered"))
    contact.customer_since = min((p[0] for p in purchases), default=None)
    contact.last_purchase_on = max((p[0] for p in purchases), default=None)
    contact.objection_offered_at_sale = any(p[1] for p in purchases)
    Contact.objects.filter(pk=contact.pk).update(
        customer_since=contact.customer_since,
        last_purchase_on=contact.last_purchase_on,
        objection_offered_at_sale=contact.objection_offered_at_sale,
    )
