"""Validating and normalising e-mail addresses, and their keyed hash."""

import hashlib
import hmac
from functools import lru_cache

import email_validator
import idna
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import DOT_ATOM_TEXT, EMAIL_MAX_LENGTH
from email_validator.syntax import validate_email_domain_name


def normalise_email(raw: str) -> str:
    """The canonical form of an address, or ValidationError with a clear message.

    IDN domains are accepted and kept in Unicode form; the whole address is
    lower-cased so that one person has one contact.
    """
    if not isinstance(raw, str):
        raise ValidationError(_("An e-mail address must be text."), code="invalid")
    candidate = raw.strip()
    if not candidate:
        raise ValidationError(_("Enter an e-mail address."), code="required")
    if any(ch in candidate for ch in "\r\n\0"):
        raise ValidationError(_("An e-mail address cannot contain line breaks."), code="invalid")
    if len(candidate) > 254:
        raise ValidationError(
            _("An e-mail address can be at most 254 characters long."), code="invalid"
        )
    common = _common_address(candidate)
    if common is not None:
        return common
    try:
        result = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValidationError(
            _("%(address)s is not a valid e-mail address: %(why)s")
            % {"address": candidate[:80], "why": str(error)},
            code="invalid",
        ) from None
    return result.normalized.lower()


# Characters that make ``validate_email`` read an address as more than a plain
# local@domain (display names, quoting, comments, domain literals, routes).
_NOT_IN_A_PLAIN_DOMAIN = frozenset(' \t<>()[]\\",;:@')


def _common_address(candidate: str) -> str | None:
    """The normalised form of a plain ASCII local part at a domain, or None.

    Gives exactly what ``validate_email`` gives for such an address, faster:
    the local part by the same dot-atom rule, the domain checked once and
    remembered (a list of a million people has a few thousand domains; the
    domain check was most of the cost of an import's row), the same length
    limits. Anything else (quoted or international local parts, unusual
    characters, a domain that fails) returns None and takes the full path,
    which also gives the error message. ``contacts.tests.test_emails`` holds
    both paths equal on generated addresses.
    """
    local, at, domain = candidate.rpartition("@")
    if not at or not DOT_ATOM_TEXT.match(local) or _NOT_IN_A_PLAIN_DOMAIN.intersection(domain):
        return None
    checked = _checked_domain(domain)
    if checked is None:
        return None
    unicode_domain, ascii_domain = checked
    normalised = f"{local}@{unicode_domain}"
    for form in (candidate, normalised, f"{local}@{ascii_domain}"):
        if len(form.encode()) > EMAIL_MAX_LENGTH:
            return None
    return normalised.lower()


@lru_cache(maxsize=20_000)
def _checked_domain(domain: str) -> tuple[str, str] | None:
    """(domain, its IDNA ASCII form) as ``validate_email`` normalises it, or None if refused."""
    try:
        checked = validate_email_domain_name(
            domain,
            test_environment=email_validator.TEST_ENVIRONMENT,
            globally_deliverable=email_validator.GLOBALLY_DELIVERABLE,
        )
    except EmailNotValidError:
        return None
    return checked["domain"], checked["ascii_domain"]


def ascii_email(normalised: str) -> str:
    """The address with its domain in IDNA (punycode) form, for SMTP."""
    local, _sep, domain = normalised.rpartition("@")
    return f"{local}@{idna.encode(domain).decode('ascii')}"


def email_hash(normalised: str) -> str:
    """Keyed hash of a normalised address (the suppression list holds only these)."""
    key = settings.AKKOORD_HASH_KEY.encode()
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()
