from django.conf import settings
from django.db import models
from django.db.models import Q

from core.fields import MoneyField
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


class PaymentBatch(models.Model):
    """A CSV export for Payment Central (R-PAY-2); confirming it marks its payments paid."""

    class Status(models.TextChoices):
        EXPORTED = "exported", "Exported"
        CONFIRMED = "confirmed", "Confirmed paid"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.EXPORTED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty for the scheduled daily batch.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    reference = models.CharField(
        max_length=64,
        blank=True,
        db_default="",
        help_text="Payment Central's reference of the payment run that paid the batch.",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # R-PAY-2: a batch is confirmed paid with the reference that traces the money.
            models.CheckConstraint(
                condition=Q(status="exported") | (Q(confirmed_at__isnull=False) & ~Q(reference="")),
                name="batch_confirmed_with_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"Batch {self.pk} ({self.get_status_display()})"


class Payment(models.Model):
    """Money owed to a partner: a request's payout or a dispute's adjustment.

    The amount of record is USD; the local amount uses the program FX rate in force on
    the approval date (R-PAY-1). A request is paid at most once: a unique constraint on
    `request` (R-PAY-4)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PAID = "paid", "Paid"

    class Kind(models.TextChoices):
        PAYOUT = "payout", "Payout"
        ADJUSTMENT = "adjustment", "Dispute adjustment"

    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.PAYOUT)
    request = models.OneToOneField(
        "redemptions.PaymentRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payment",
    )
    dispute = models.OneToOneField(
        "payments.Dispute",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adjustment",
    )
    voucher = models.ForeignKey(
        "vouchers.Voucher", on_delete=models.PROTECT, related_name="payments"
    )
    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="payments"
    )
    amount_usd = MoneyField()
    currency = models.CharField(max_length=3)
    fx_rate = models.DecimalField(max_digits=18, decimal_places=6)
    amount_local = MoneyField()
    approved_on = models.DateField()
    expected_on = models.DateField(
        null=True,
        blank=True,
        help_text="When the partner can expect the money: PAYMENT_RUN_BUSINESS_DAYS business "
        "days after approval (R-PAY-2); empty for payments recorded before it was kept.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    batch = models.ForeignKey(
        PaymentBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-approved_on", "-id"]
        indexes = [
            models.Index(fields=["partner", "approved_on"], name="payment_partner_day"),
            models.Index(fields=["status", "batch"], name="payment_status_batch"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_usd__gt=0), name="payment_positive"),
            models.CheckConstraint(condition=Q(fx_rate__gt=0), name="payment_fx_positive"),
            models.CheckConstraint(
                condition=Q(kind="payout", request__isnull=False, dispute__isnull=True)
                | Q(kind="adjustment", request__isnull=True, dispute__isnull=False),
                name="payment_source_matches_kind",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_at__isnull=False, batch__isnull=False),
                name="payment_paid_in_a_batch",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount_usd} USD to {self.partner_id}"


class Dispute(models.Model):
    """A partner disputes a decision or a payment (R-PAY-5)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        UPHELD = "upheld", "Upheld"
        DISMISSED = "dismissed", "Dismissed"

    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="disputes"
    )
    request = models.ForeignKey(
        "redemptions.PaymentRequest", on_delete=models.PROTECT, related_name="disputes"
    )
    text = models.TextField(max_length=4000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    resolution = models.TextField(blank=True)
    adjustment_usd = MoneyField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["request"], condition=Q(status="open"), name="dispute_one_open_per_request"
            ),
            models.CheckConstraint(
                condition=Q(status="open") | ~Q(resolution=""), name="dispute_resolution_recorded"
            ),
        ]

    def __str__(self) -> str:
        return f"Dispute {self.pk} on request {self.request_id}"
