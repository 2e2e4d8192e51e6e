"""Staff users, their roles, and the audit log of access to personal data."""

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    MARKETER = "marketer", _("Marketer")
    DPO = "dpo", _("Data protection officer (read-only)")


class UserManager(BaseUserManager):
    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("A staff user needs an e-mail address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("role", Role.ADMIN)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A staff user of the organisation (never a contact)."""

    email = models.EmailField(_("e-mail address"), unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.MARKETER)
    language = models.CharField(
        _("language"), max_length=5, choices=[("nl", "Nederlands"), ("en", "English")], default="nl"
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    password_change_required = models.BooleanField(
        _("must choose a new password"),
        default=False,
        help_text=_("Set while the user signs in with a one-time password from an administrator."),
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("staff user")
        verbose_name_plural = _("staff users")

    def __str__(self) -> str:
        return self.name or self.email

    @property
    def is_staff(self) -> bool:
        # Akkoord has no Django admin site; every user is staff of the app.
        return False

    @property
    def can_change_data(self) -> bool:
        """Administrators and marketers change data; the DPO only reads."""
        return self.is_active and self.role in (Role.ADMIN, Role.MARKETER)

    @property
    def is_administrator(self) -> bool:
        return self.is_active and self.role == Role.ADMIN


class AuditAction(models.TextChoices):
    VIEW = "view", _("viewed")
    CREATE = "create", _("created")
    CHANGE = "change", _("changed")
    DELETE = "delete", _("deleted")
    EXPORT = "export", _("exported")
    SEND = "send", _("sent mail")
    SIGN_IN = "sign_in", _("signed in")
    SIGN_IN_FAILED = "sign_in_failed", _("failed sign-in")
    SIGN_OUT = "sign_out", _("signed out")
    SETTINGS = "settings", _("changed settings")


class AuditEntry(models.Model):
    """Who viewed, exported or changed personal data, and when.

    Holds object ids, never a contact's personal data, so that erasing a
    person does not require rewriting the audit trail.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    actor = models.CharField(max_length=200, help_text="Staff user e-mail or API client name")
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_type} {self.object_id}"


class SignInThrottle(models.Model):
    """Failed sign-in attempts of one identity (an account, a client address, a user's codes).

    One row per scope and identity, changed only by conditional UPDATEs
    (``accounts.lockout``), so that parallel attempts cannot overshoot the
    limit. ``identity_hash`` is a keyed hash: the table holds no addresses or
    IPs in clear. ``expires_at`` lies one window after the last counted
    attempt: the count, and so a lockout, runs from the last failure.
    """

    scope = models.CharField(max_length=20)
    identity_hash = models.CharField(max_length=64)
    failures = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "identity_hash"], name="signin_throttle_identity"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.identity_hash[:8]} {self.failures}"
