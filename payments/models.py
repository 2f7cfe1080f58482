from django.conf import settings
from django.db import models
from django.db.models import Q

from core.validators import validate_currency


class FxRate(models.Model):
    """Local currency units per USD, in force from `valid_from` until the next rate (R-PAY-1)."""

    currency = models.CharField(max_length=3, validators=[validate_currency])
    rate_per_usd = models.DecimalField(max_digits=18, decimal_places=6)
    valid_from = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["currency", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "valid_from"], name="fx_rate_unique_day"),
            models.CheckConstraint(condition=Q(rate_per_usd__gt=0), name="fx_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.rate_per_usd}/USD from {self.valid_from}"
