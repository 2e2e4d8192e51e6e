"""Tags and segment counts: the one writer of a contact's tags (staff, import, API)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from akkoord.contacts.models import Activity, ActivityKind, Contact
from akkoord.segments.conditions import matching_contacts
from akkoord.segments.models import Tag

MAX_TAG_LENGTH = 50


def clean_tag_names(names) -> list[str]:
    if not isinstance(names, list | tuple | set) or not all(isinstance(n, str) for n in names):
        raise ValidationError({"tags": [_("Give the tags as a list of names.")]})
    cleaned = sorted({name.strip() for name in names if name.strip()})
    if any(len(name) > MAX_TAG_LENGTH or "\x00" in name for name in cleaned):
        raise ValidationError({"tags": [_("A tag has at most 50 characters.")]})
    return cleaned


def set_tags(contact: Contact, names, *, actor: str) -> list[str]:
    """Give ``contact`` exactly these tags; the change goes on its timeline."""
    names = clean_tag_names(names)
    with transaction.atomic():
        before = sorted(contact.tags.values_list("name", flat=True))
        if before == names:
            return names
        tags = [Tag.objects.get_or_create(name=name)[0] for name in names]
        contact.tags.set(tags)
        Activity.objects.create(
            contact=contact,
            kind=ActivityKind.CHANGED,
            actor=actor[:200],
            summary="tags changed",
            data={"changes": {"tags": [before, names]}},
        )
    return names


def add_tags(contact: Contact, names, *, actor: str) -> list[str]:
    """Add tags to the ones ``contact`` has (imports and the API add, they do not replace)."""
    current = list(contact.tags.values_list("name", flat=True))
    return set_tags(contact, current + clean_tag_names(names), actor=actor)


def count(definition: dict) -> int:
    """How many contacts meet ``definition`` (the live count while editing)."""
    return matching_contacts(definition).count()
