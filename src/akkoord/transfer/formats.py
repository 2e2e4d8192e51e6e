"""What the columns of an import file mean: targets, known export formats, mappings.

A *mapping* ties each column of the file to a *target*: a contact field
(``email``, ``first_name``, ``fields.<key>``, ...), a piece of consent proof
(``optin_time``, ``optin_ip``, ``confirm_time``, ``confirm_ip``), the
subscription ``status`` and the time it changed (``unsub_time``), the
``purposes`` of the row, a purchase (``purchase_date``,
``purchase_description``, ``purchase_category`` (a category key),
``purchase_amount``, ``purchase_reference``, ``purchase_objection_offered``),
``tags`` (comma-separated names), or ``ignore``.

Known formats are the exports of Mailchimp (audience export: "Email Address",
OPTIN_TIME, OPTIN_IP, CONFIRM_TIME, CONFIRM_IP, ...), listmonk (email, name,
attributes, status, created_at; no opt-in proof) and Laposta (Dutch or English
column names).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

CORE_TARGETS = ["email", "first_name", "last_name", "name", "organisation_name", "language"]
PROOF_TARGETS = ["optin_time", "optin_ip", "confirm_time", "confirm_ip"]
PURCHASE_TARGETS = [
    "purchase_date",
    "purchase_description",
    "purchase_category",
    "purchase_amount",
    "purchase_reference",
    "purchase_objection_offered",
]
# A purchase needs these two columns; the others are optional.
PURCHASE_REQUIRED = ("purchase_date", "purchase_description")
OTHER_TARGETS = ["status", "unsub_time", "clean_time", "purposes", "tags", "ignore"]
FORMATS = ["auto", "mailchimp", "listmonk", "laposta", "csv"]

# Column names (lower-cased) per format. Columns a format has but Akkoord does
# not store (member rating, Mailchimp ids, time zones, tags, ...) are ignored.
_PRESETS = {
    "mailchimp": {
        "email address": "email",
        "first name": "first_name",
        "last name": "last_name",
        "language": "language",
        "optin_time": "optin_time",
        "optin_ip": "optin_ip",
        "confirm_time": "confirm_time",
        "confirm_ip": "confirm_ip",
        "unsub_time": "unsub_time",
        "clean_time": "clean_time",
    },
    # listmonk's subscriber export holds no opt-in proof: ``created_at`` is when
    # the record was made (also by an admin import without consent), so it is
    # not taken as an opt-in time and such rows become unproven consent.
    "listmonk": {
        "email": "email",
        "name": "name",
        "status": "status",
    },
    "laposta": {
        "e-mailadres": "email",
        "email": "email",
        "emailadres": "email",
        "voornaam": "first_name",
        "achternaam": "last_name",
        "first name": "first_name",
        "last name": "last_name",
        "status": "status",
        "aanmelddatum": "optin_time",
        "ingeschreven op": "optin_time",
        "signup date": "optin_time",
        "aangemeld op": "optin_time",
        "ip-adres": "optin_ip",
        "ip": "optin_ip",
        "ip address": "optin_ip",
        "afmelddatum": "unsub_time",
        "unsubscribe date": "unsub_time",
    },
    "csv": {
        "email": "email",
        "e-mail": "email",
        "e-mailadres": "email",
        "email address": "email",
        "first_name": "first_name",
        "last_name": "last_name",
        "voornaam": "first_name",
        "achternaam": "last_name",
        "name": "name",
        "naam": "name",
        "organisation": "organisation_name",
        "organisation_name": "organisation_name",
        "organisatie": "organisation_name",
        "language": "language",
        "taal": "language",
        "optin_time": "optin_time",
        "optin_ip": "optin_ip",
        "confirm_time": "confirm_time",
        "confirm_ip": "confirm_ip",
        "status": "status",
        "purposes": "purposes",
        "doelen": "purposes",
        "tags": "tags",
        "purchase_date": "purchase_date",
        "aankoopdatum": "purchase_date",
        "purchase_description": "purchase_description",
        "purchase_category": "purchase_category",
        "productcategorie": "purchase_category",
        "purchase_amount": "purchase_amount",
        "bedrag": "purchase_amount",
        "purchase_reference": "purchase_reference",
        "ordernummer": "purchase_reference",
        "purchase_objection_offered": "purchase_objection_offered",
    },
}

# Subscription statuses in the known formats that mean "does not want mail".
UNSUBSCRIBED = {"unsubscribed", "blocklisted", "blacklisted", "afgemeld", "uitgeschreven"}
BOUNCED = {"cleaned", "bounced", "gebounced"}
SUBSCRIBED = {"", "subscribed", "enabled", "active", "actief", "ingeschreven", "confirmed"}


class MappingError(ValueError):
    """A mapping that cannot be used (the message says why)."""


def detect_format(header: list[str]) -> str:
    lower = {h.lower() for h in header}
    if "email address" in lower and ({"optin_time", "member_rating", "leid", "euid"} & lower):
        return "mailchimp"
    if {"email", "name", "attributes", "status"} <= lower:
        return "listmonk"
    if {"e-mailadres", "status"} <= lower or {"e-mailadres", "aanmelddatum"} <= lower:
        return "laposta"
    return "csv"


def valid_targets(field_keys: list[str]) -> list[str]:
    return [
        *CORE_TARGETS,
        *[f"fields.{k}" for k in field_keys],
        *PROOF_TARGETS,
        *PURCHASE_TARGETS,
        *OTHER_TARGETS,
    ]


def suggest_mapping(header: list[str], fmt: str, field_keys: list[str]) -> dict[str, str]:
    """Column -> target for a format (``auto`` detects it); unknown columns are ignored."""
    if fmt == "auto":
        fmt = detect_format(header)
    preset = _PRESETS.get(fmt, _PRESETS["csv"])
    fields_by_name = {k.lower(): f"fields.{k}" for k in field_keys}
    mapping = {}
    for column in header:
        lower = column.lower()
        mapping[column] = preset.get(lower) or fields_by_name.get(lower) or "ignore"
    return mapping


def parse_mapping_option(text: str) -> dict[str, str]:
    """``"col=field,col2=field2"`` (as given on the command line) as a dict."""
    mapping = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        column, sep, target = part.partition("=")
        if not sep or not column.strip() or not target.strip():
            raise MappingError(
                _("Write the mapping as column=field, separated by commas (got %(part)s).")
                % {"part": part[:80]}
            )
        mapping[column.strip()] = target.strip()
    return mapping


def check_mapping(mapping: dict[str, str], header: list[str], field_keys: list[str]) -> None:
    """Refuse a mapping with unknown columns or targets, twice-used targets or no e-mail."""
    targets = set(valid_targets(field_keys))
    columns = set(header)
    problems = []
    used: dict[str, str] = {}
    for column, target in mapping.items():
        if column not in columns:
            problems.append(_("The file has no column %(column)s.") % {"column": column[:80]})
        if target not in targets:
            problems.append(
                _(
                    "%(target)s is not something Akkoord can import (column %(column)s). Choose "
                    "one of: %(choices)s."
                )
                % {
                    "target": target[:80],
                    "column": column[:80],
                    "choices": ", ".join(sorted(targets)),
                }
            )
        elif target != "ignore":
            if target in used:
                problems.append(
                    _("Columns %(a)s and %(b)s both map to %(target)s.")
                    % {"a": used[target][:80], "b": column[:80], "target": target}
                )
            used[target] = column
    if "email" not in used:
        problems.append(_("One column must be mapped to the e-mail address (email)."))
    if "name" in used and ({"first_name", "last_name"} & used.keys()):
        problems.append(_("Map either one name column (name) or first and last name, not both."))
    if set(PURCHASE_TARGETS) & used.keys():
        for target in PURCHASE_REQUIRED:
            if target not in used:
                problems.append(
                    _("A purchase needs a date and a description: map a column to %(target)s.")
                    % {"target": target}
                )
    if problems:
        raise MappingError(" ".join(problems))
