from django.db import models
from django.db.models import Q
from django_countries.fields import CountryField

from core.models import TimeStampedModel
from core.validators import validate_currency


class Partner(TimeStampedModel):
    """A partner organisation (a tenant); only FastTrack Ready approved ones redeem (R-VOU-4)."""

    partner_id = models.CharField("partner ID", max_length=32, unique=True)
    name = models.CharField(max_length=200)
    country = CountryField()
    currency = models.CharField(max_length=3, validators=[validate_currency])
    company = models.CharField(
        max_length=100,
        blank=True,
        db_index=True,
        help_text="Ultimate-parent key shared with affiliated organisations (R-VOU-7).",
    )
    frp_approved = models.BooleanField("FastTrack Ready approved", default=False)
    payment_profile_ref = models.CharField(
        "Payment Central profile",
        max_length=64,
        blank=True,
        help_text="The partner's existing payment profile; no new set-up (R-PAY-2).",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~Q(partner_id=""), name="partner_id_not_blank"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="partner_currency_iso"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.partner_id})"
