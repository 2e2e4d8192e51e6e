"""Staff account operations, each audited: create, change role, (de)activate,
reset the second factor, and recovery codes."""

import base64
import secrets
from urllib.parse import quote, urlencode

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from akkoord.accounts.audit import audit
from akkoord.accounts.models import AuditAction, Role, User

RECOVERY_CODE_COUNT = 10
RECOVERY_DEVICE_NAME = "Recovery codes"
TOTP_DEVICE_NAME = "Authenticator"
ISSUER = "Akkoord"

_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"


def generate_password() -> str:
    """A strong one-time password: 4 groups of 5 characters, about 114 bits."""
    groups = ("".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(5)) for _ in range(4))
    return "-".join(groups)


def create_staff_user(
    email: str, role: str, password: str, *, name: str = "", by=None, one_time: bool = False
) -> User:
    """Create a staff user after checking e-mail, role, password and uniqueness.

    With ``one_time`` the user must choose their own password after signing in.
    Raises ``ValidationError`` with a message the operator can act on.
    """
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(_("Enter a valid e-mail address.")) from None
    if role not in Role.values:
        raise ValidationError(
            _("Unknown role %(role)s; choose one of: %(roles)s.")
            % {"role": role, "roles": ", ".join(Role.values)}
        )
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(_("There already is a staff user with this e-mail address."))
    candidate = User(email=email, name=name, role=role)
    password_validation.validate_password(password, candidate)
    with transaction.atomic():
        user = User.objects.create_user(
            email, password, role=role, name=name, password_change_required=one_time
        )
        audit(by, AuditAction.CREATE, user, detail=f"staff user, role {role}")
    return user


def totp_secret_text(device: TOTPDevice) -> str:
    """The device's key in base32 as authenticator apps expect it, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_uri(device: TOTPDevice) -> str:
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    label = quote(f"{ISSUER}:{device.user.email}")
    params = urlencode(
        {"secret": secret, "issuer": ISSUER, "digits": device.digits, "period": device.step}
    )
    return f"otpauth://totp/{label}?{params}"


def pending_totp_device(user: User) -> TOTPDevice:
    """The unconfirmed authenticator being enrolled (the same one on every reload)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def confirm_totp_device(device: TOTPDevice) -> None:
    with transaction.atomic():
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit(
            device.user, AuditAction.CHANGE, device.user, detail="two-factor authentication set up"
        )


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes by fresh ones; each works once."""
    with transaction.atomic():
        device, _created = StaticDevice.objects.get_or_create(
            user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
        audit(user, AuditAction.CHANGE, user, detail="new recovery codes")
    return codes


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def reset_two_factor(user: User, *, by) -> None:
    """Remove every second factor: the user enrols again at the next sign-in.

    Their current sessions stop being verified because the device is gone.
    """
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        audit(by, AuditAction.CHANGE, user, detail="two-factor authentication reset")


def other_active_admins(user: User) -> bool:
    return User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=user.pk).exists()


def change_role(user: User, role: str, *, by) -> None:
    if role not in Role.values:
        raise ValidationError(_("Unknown role."))
    if user.role == Role.ADMIN and role != Role.ADMIN and not other_active_admins(user):
        raise ValidationError(_("Akkoord needs at least one active administrator."))
    old = user.role
    with transaction.atomic():
        user.role = role
        user.save(update_fields=["role"])
        audit(by, AuditAction.CHANGE, user, detail=f"role {old} -> {role}")


def set_active(user: User, active: bool, *, by) -> None:
    if not active and user.role == Role.ADMIN and not other_active_admins(user):
        raise ValidationError(_("Akkoord needs at least one active administrator."))
    with transaction.atomic():
        user.is_active = active
        user.save(update_fields=["is_active"])
        audit(by, AuditAction.CHANGE, user, detail="activated" if active else "deactivated")


def reset_password(user: User, *, by) -> str:
    """Give ``user`` a new one-time password (shown once to the administrator)."""
    password = generate_password()
    with transaction.atomic():
        user.set_password(password)
        user.password_change_required = True
        user.save(update_fields=["password", "password_change_required"])
        audit(by, AuditAction.CHANGE, user, detail="password reset by administrator")
    return password
