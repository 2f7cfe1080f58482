from django.db import models
from django.db.models import Q
from django_countries.fields import CountryField

from core.choices import Category, Segment
from core.models import TimeStampedModel


class Customer(TimeStampedModel):
    """A customer organisation (a tenant), identified by its Microsoft TPID."""

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

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(public_institution=False) | Q(category=Category.EDUCATION),
                name="customer_public_institution_only_education",
            ),
            models.CheckConstraint(condition=~Q(tpid=""), name="customer_tpid_not_blank"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.tpid})"
