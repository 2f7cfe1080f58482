from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

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
