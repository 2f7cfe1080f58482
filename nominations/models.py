from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, transition

from core.choices import LicensingChannel
from core.fields import MoneyField
from core.models import TimeStampedModel


class AgreementType(models.TextChoices):
    NEW = "new", "New purchase"
    RENEWAL = "renewal", "EA renewal"
    MID_TERM = "mid_term", "Mid-term purchase"


class MigrationSource(models.TextChoices):
    OFFICE_ON_PREM = "office_on_prem", "Office on-premises"
    COMPETITOR = "competitor", "Competitor"
    TENANT_TO_TENANT = "tenant_to_tenant", "Tenant-to-tenant"


class Nomination(TimeStampedModel):
    """A field rep's nomination of a customer, before the deal closes (R-ELIG-4, R-ELIG-5)."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Awaiting approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        ISSUED = "issued", "Voucher issued"
        WITHDRAWN = "withdrawn", "Withdrawn"

    # A withdrawn or rejected nomination holds no exclusive group: the customer may be
    # nominated again (R-OFFER-1, R-ELIG-9).
    OPEN_STATUSES = (Status.SUBMITTED, Status.APPROVED, Status.ISSUED)

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="nominations"
    )
    offer = models.ForeignKey("programs.Offer", on_delete=models.PROTECT, related_name="+")
    exclusive_group = models.SlugField(
        max_length=40, help_text="Copied from the offer (R-OFFER-1)."
    )
    workloads = models.JSONField(default=list)
    deal_value = MoneyField(help_text="Expected qualifying purchase, USD.")
    expected_close_date = models.DateField()
    agreement_type = models.CharField(max_length=20, choices=AgreementType)
    licensing_channel = models.CharField(
        max_length=10,
        choices=LicensingChannel,
        default=LicensingChannel.EA,
        db_default=LicensingChannel.EA,  # rows written in bulk SQL are EA deals too
        help_text="How the deal is licensed; CSP deals are not eligible (R-ELIG-2).",
    )
    upsell_expansion = models.BooleanField(
        default=False, help_text="Renewals and mid-term purchases must drive upsell or expansion."
    )
    migration_sources = models.JSONField(default=list, blank=True)
    ecif_funded = models.BooleanField(default=False)
    notes = models.TextField(blank=True, max_length=2000)
    nominated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="nominations"
    )
    status = FSMField(default=Status.SUBMITTED, choices=Status.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)
    withdrawal_reason = models.TextField(
        blank=True,
        db_default="",  # rows written in bulk SQL (the benchmark's seed) were never withdrawn
        help_text="Why the field rep withdrew it (R-ELIG-9).",
    )
    estimated_value = MoneyField(null=True, blank=True, help_text="At nomination, from the deal.")
    estimated_cap = MoneyField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    purchase_amount = MoneyField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="nomination_status_created")]
        constraints = [
            # R-OFFER-1: one open nomination per exclusive group per customer per program.
            models.UniqueConstraint(
                fields=["program", "customer", "exclusive_group"],
                condition=Q(status__in=["submitted", "approved", "issued"]),
                name="nomination_one_open_per_group",
            ),
            models.CheckConstraint(condition=Q(deal_value__gt=0), name="nomination_deal_positive"),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(rejection_reason=""),
                name="nomination_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="withdrawn") | ~Q(withdrawal_reason=""),
                name="nomination_withdrawal_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="issued")
                | Q(closed_on__isnull=False, purchase_amount__isnull=False),
                name="nomination_issued_has_deal",
            ),
        ]

    def __str__(self) -> str:
        return f"Nomination {self.pk}: {self.customer} {self.offer.code}"

    @transition(field=status, source=Status.SUBMITTED, target=Status.APPROVED)
    def approve(self) -> None:
        pass

    @transition(field=status, source=[Status.SUBMITTED, Status.APPROVED], target=Status.REJECTED)
    def reject(self) -> None:
        pass

    @transition(field=status, source=Status.APPROVED, target=Status.ISSUED)
    def issue(self) -> None:
        pass

    @transition(field=status, source=Status.SUBMITTED, target=Status.WITHDRAWN)
    def withdraw(self) -> None:
        """R-ELIG-9: the nominating field rep takes it back while it awaits approval."""

    @property
    def pending(self) -> bool:
        """Awaiting a program manager's decision: its rep may still edit or withdraw it."""
        return bool(self.status == self.Status.SUBMITTED)
