"""Validating and normalising e-mail addresses, and their keyed hash."""

import hashlib
import hmac

import idna
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from email_validator import EmailNotValidError, validate_email


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
    try:
        result = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValidationError(
            _("%(address)s is not a valid e-mail address: %(why)s")
            % {"address": candidate[:80], "why": str(error)},
            code="invalid",
        ) from None
    return result.normalized.lower()


def ascii_email(normalised: str) -> str:
    """The address with its domain in IDNA (punycode) form, for SMTP."""
    local, _sep, domain = normalised.rpartition("@")
    return f"{local}@{idna.encode(domain).decode('ascii')}"


def email_hash(normalised: str) -> str:
    """Keyed hash of a normalised address (the suppression list holds only these)."""
    key = settings.AKKOORD_HASH_KEY.encode()
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()
