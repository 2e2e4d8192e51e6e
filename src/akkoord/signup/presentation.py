"""Turning a form version into the fields a template shows (hosted, embed, preview)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from akkoord.contacts.models import ContactField, FieldKind
from akkoord.contacts.services import CORE_FIELDS

CORE_LABELS = {
    "first_name": (_("First name"), "given-name"),
    "last_name": (_("Last name"), "family-name"),
    "organisation_name": (_("Organisation"), "organization"),
}
INPUT_TYPES = {FieldKind.DATE: "date", FieldKind.NUMBER: "text", FieldKind.PHONE: "tel"}


def available_fields() -> list[tuple[str, str]]:
    """(key, label) of every field a form may ask for, besides the address."""
    choices = [(key, str(label)) for key, (label, _auto) in CORE_LABELS.items()]
    for field in ContactField.objects.filter(is_active=True):
        choices.append((field.key, f"{field.label_en} / {field.label_nl}"))
    return choices


def post_name(key: str) -> str:
    return key if key in CORE_FIELDS or key == "email" else f"field_{key}"


def data_from_post(version, post) -> dict:
    """The ``sign_up`` data out of a submitted form (only what the version asks)."""
    data: dict = {"email": post.get("email", ""), "purposes": post.getlist("purpose")}
    custom = {}
    for spec in version.fields:
        value = post.get(post_name(spec["key"]), "")
        if spec["key"] in CORE_FIELDS:
            data[spec["key"]] = value
        elif value != "":
            custom[spec["key"]] = value
    if custom:
        data["fields"] = custom
    return data


def field_rows(version, *, prefix: str, values=None, errors=None) -> list[dict]:
    values = values or {}
    errors = errors or {}
    contact_fields = {
        f.key: f for f in ContactField.objects.filter(key__in=[s["key"] for s in version.fields])
    }
    rows = [
        {
            "name": "email",
            "id": f"{prefix}email",
            "label": _("E-mail address"),
            "type": "email",
            "autocomplete": "email",
            "required": True,
            "value": values.get("email", ""),
            "errors": errors.get("email", []),
        }
    ]
    for spec in version.fields:
        key = spec["key"]
        if key in CORE_LABELS:
            label, autocomplete = CORE_LABELS[key]
            input_type = "text"
        elif key in contact_fields:
            field = contact_fields[key]
            label, autocomplete = field.label(version.language), "off"
            input_type = INPUT_TYPES.get(field.kind, "text")
        else:
            continue
        name = post_name(key)
        rows.append(
            {
                "name": name,
                "id": f"{prefix}{name}",
                "label": label,
                "type": input_type,
                "autocomplete": autocomplete,
                "required": bool(spec.get("required")),
                "value": values.get(name, ""),
                "errors": errors.get(key, []),
            }
        )
    return rows


def purpose_rows(version, *, prefix: str, ticked=(), errors=None) -> list[dict]:
    return [
        {
            "key": p["key"],
            "id": f"{prefix}purpose-{p['key']}",
            "name": p["name"],
            "text": p["text"],
            "checked": p["key"] in ticked,
        }
        for p in version.purposes
    ]
