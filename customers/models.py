from django.conf import settings
from django.db import models
from django.db.models import Q
from django_countries.fields import CountryField

from core.choices import Category, Segment
from core.models import TimeStampedModel


class Customer(TimeStampedModel):
    """A customer organisation (a tenant), identified by its Microsoft TPID."""

    class Verification(models.TextChoices):
        """R-ELIG-8 (decision): a customer a field rep adds is unverified until a program
        manager verifies it; its nominations may be made but not approved."""

        VERIFIED = "verified", "Verified"
        UNVERIFIED = "unverified", "Unverified"

    tpid = models.CharField("TPID", max_length=32, unique=True)
    name = models.CharField(max_length=200)
    country = CountryField()
    category = models.CharField(max_length=20, choices=Category.choices)
    segment = models.CharField(max_length=20, choices=Segment.choices)
    e3_licenses = models.PositiveIntegerField(
        "prior M365 E3 licences",
        default=0,
        help_text="Owned before the promotional period (R-ELIG-3).",
    )
    public_institution = models.BooleanField(
        default=False,
        help_text="Education customers that are public institutions use the public-sector scheme.",
    )
    company = models.CharField(
        max_length=100,
        blank=True,
        db_index=True,
        help_text="Ultimate-parent key shared with affiliated organisations (R-VOU-7).",
    )
    verification = models.CharField(
        max_length=10,
        choices=Verification.choices,
        default=Verification.VERIFIED,
        db_default=Verification.VERIFIED,  # rows written in bulk SQL are program data too
        help_text="A customer added by a field rep is unverified until a program manager "
        "verifies it; its nominations cannot be approved before (R-ELIG-8).",
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Who added the customer in the portal (the API or the add-customer page).",
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(public_institution=False) | Q(category=Category.EDUCATION),
                name="customer_public_institution_only_education",
            ),
            models.CheckConstraint(condition=~Q(tpid=""), name="customer_tpid_not_blank"),
            models.CheckConstraint(
                condition=Q(verification__in=["verified", "unverified"]),
                name="customer_verification_known",
            ),
            # R-ELIG-8: an unverified customer was added by someone (the rep who sees it)
            # and carries no verification yet.
            models.CheckConstraint(
                condition=Q(verification="verified")
                | Q(added_by__isnull=False, verified_by__isnull=True, verified_at__isnull=True),
                name="customer_unverified_added_not_verified",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.tpid})"

    @property
    def is_verified(self) -> bool:
        return self.verification == self.Verification.VERIFIED
