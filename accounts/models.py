from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils import timezone

from accounts.ttl import MAX_TTL
from core.choices import Role


class User(AbstractUser):
    """One role per person; customer and partner users belong to exactly one organisation."""

    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contacts",
    )
    partner = models.ForeignKey(
        "partners.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(role=Role.CUSTOMER, customer__isnull=False, partner__isnull=True)
                    | Q(role=Role.PARTNER, partner__isnull=False, customer__isnull=True)
                    | (
                        ~Q(role__in=[Role.CUSTOMER, Role.PARTNER])
                        & Q(customer__isnull=True, partner__isnull=True)
                    )
                ),
                name="user_organisation_matches_role",
            ),
        ]

    @property
    def organisation(self) -> models.Model | None:
        return self.customer or self.partner

    @property
    def acting_role(self) -> str:
        from core.scopes import effective_role

        return effective_role(self)


class ApiToken(models.Model):
    """A key for `Authorization: Token <key>` (api.md, Conventions). The database holds the
    SHA-256 of the key, never the key: it is shown once, in the answer that issued it.

    Written only by accounts.services (issue, revoke, revoke all, last use); read by
    accounts.authentication in one statement per request."""

    class RevokedReason(models.TextChoices):
        DELETED = "deleted", "Revoked through the API"
        PAGE = "page", "Revoked on the tokens page"
        PASSWORD_CHANGED = "password_changed", "The password changed"
        DEACTIVATED = "deactivated", "The user was deactivated"

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="api_tokens")
    # The key's first characters ("vpt_" and 8 random ones drawn apart from the secret), to
    # tell one's tokens apart; they reveal nothing of the 256 secret bits that follow.
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the key, hex.")
    name = models.CharField(max_length=100, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=20, choices=RevokedReason.choices, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="api_token_user_created")]
        constraints = [
            models.CheckConstraint(
                condition=Exact(Length("digest"), 64), name="api_token_digest_is_a_sha256"
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at"))
                & Q(expires_at__lte=F("created_at") + MAX_TTL),
                name="api_token_lives_at_most_30_days",
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True, revoked_reason="")
                | (Q(revoked_at__isnull=False) & ~Q(revoked_reason="")),
                name="api_token_revoked_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user_id})"

    def state(self, now: datetime | None = None) -> str:
        """`active`, `expired` or `revoked`, as the authentication statement decides."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= (now or timezone.now()):
            return "expired"
        return "active"
