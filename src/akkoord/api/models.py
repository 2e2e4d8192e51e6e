"""API keys: one per integration, with scopes; shown once, stored hashed."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    CONTACTS_READ = "contacts:read", _("Read contacts and purchases")
    CONTACTS_WRITE = "contacts:write", _("Create and change contacts, record purchases")
    CONSENT_READ = "consent:read", _("Read consent history and ask 'may I mail?'")
    CONSENT_WRITE = "consent:write", _("Record consent events")
    REQUESTS = "requests", _("Data-subject requests: export and erase")
    SIGNUP = "signup", _("Sign people up (same rules as the forms)")
    REPORTS_WRITE = "reports:write", _("Report bounces and spam complaints")
    CAMPAIGNS = (
        "campaigns",
        _("Campaigns, segments and product categories: create, preview, send, pause, cancel"),
    )


def _digest(secret: str) -> str:
    # The secret is 32 random bytes, so a plain SHA-256 (no slow KDF) is safe.
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKey(models.Model):
    """A key for one integration. Only a hash of the secret is kept."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("API key")

    def __str__(self) -> str:
        return self.name

    @property
    def audit_label(self) -> str:
        return f"api:{self.name}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        return self.is_active and scope in self.scopes

    @classmethod
    def issue(cls, name: str, scopes: list[str], created_by=None) -> tuple[ApiKey, str]:
        """Create a key; returns it and the full token, which is shown once only."""
        prefix = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        key = cls.objects.create(
            name=name,
            prefix=prefix,
            secret_hash=_digest(secret),
            scopes=sorted(set(scopes)),
            created_by=created_by,
        )
        return key, f"ak_{prefix}_{secret}"

    @classmethod
    def authenticate(cls, token: str) -> ApiKey | None:
        """The active key for ``token``, or None (constant-time comparison)."""
        parts = (token or "").split("_", 2)
        if len(parts) != 3 or parts[0] != "ak":
            return None
        key = cls.objects.filter(prefix=parts[1], revoked_at__isnull=True).first()
        if key is None or not hmac.compare_digest(key.secret_hash, _digest(parts[2])):
            return None
        return key

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])
