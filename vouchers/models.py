from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django_fsm import FSMField, transition

from core.fields import MoneyField
from core.models import TimeStampedModel


class Voucher(TimeStampedModel):
    """A deployment voucher: value fixed at issue (R-VOU-1), expiring per R-VOU-2."""

    class Status(models.TextChoices):
        ISSUED = "issued", "Issued"
        CLAIMED = "claimed", "Claimed by a partner"
        FULLY_REDEEMED = "fully_redeemed", "Fully redeemed"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"

    class Scheme(models.TextChoices):
        COMMERCIAL = "commercial", "Commercial: 50% on SOW, 50% on POE"
        PUBLIC_SECTOR = "public_sector", "Public sector: 100% on POE"

    code = models.CharField(max_length=19, unique=True)
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    nomination = models.OneToOneField(
        "nominations.Nomination", on_delete=models.PROTECT, related_name="voucher"
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="vouchers"
    )
    offer = models.ForeignKey("programs.Offer", on_delete=models.PROTECT, related_name="+")
    exclusive_group = models.SlugField(max_length=40)
    workloads = models.JSONField(default=list)
    scheme = models.CharField(max_length=20, choices=Scheme.choices)
    value = MoneyField(help_text="USD, fixed at issue, taxes included (R-CAP-5).")
    cap = MoneyField(help_text="Cap of the program row that applied (R-CAP-1).")
    cap_row = models.CharField(max_length=200, help_text="The program row that applied.")
    suggested_value = MoneyField()
    issued_on = models.DateField()
    expires_on = models.DateField()
    status = FSMField(default=Status.ISSUED, choices=Status.choices, db_index=True)
    partner = models.ForeignKey(
        "partners.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="vouchers"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    conflict_flag = models.TextField(
        blank=True,
        default="",
        db_default="",
        help_text="R-VOU-7: why the same-company check could not be made with confidence "
        "when the partner claimed (blank when it could). Shown to the reviewer on every "
        "payment request of the voucher.",
    )
    paid_total = MoneyField(default=0)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-issued_on", "-id"]
        indexes = [
            models.Index(fields=["status", "expires_on"], name="voucher_status_expires"),
            models.Index(fields=["customer", "status"], name="voucher_customer_status"),
            models.Index(fields=["partner", "status"], name="voucher_partner_status"),
        ]
        constraints = [
            # R-OFFER-1: one voucher per exclusive group per customer per program.
            models.UniqueConstraint(
                fields=["program", "customer", "exclusive_group"],
                condition=~Q(status="cancelled"),
                name="voucher_one_per_group",
            ),
            models.CheckConstraint(
                condition=Q(value__gt=0) & Q(value__lte=F("cap")), name="voucher_value_within_cap"
            ),
            models.CheckConstraint(
                condition=Q(paid_total__gte=0) & Q(paid_total__lte=F("value")),
                name="voucher_paid_within_value",
            ),
            models.CheckConstraint(
                condition=Q(expires_on__gt=F("issued_on")), name="voucher_expires_after_issue"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["issued", "expired", "cancelled"])
                | Q(partner__isnull=False),
                name="voucher_claimed_has_partner",
            ),
            # R-VOU-7: the check runs when a partner claims; its flag goes with that partner.
            models.CheckConstraint(
                condition=Q(conflict_flag="") | Q(partner__isnull=False),
                name="voucher_conflict_flag_has_partner",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def remaining(self) -> Decimal:
        return Decimal(self.value - self.paid_total)

    @transition(field=status, source=Status.ISSUED, target=Status.CLAIMED)
    def claim(self) -> None:
        pass

    @transition(field=status, source=Status.CLAIMED, target=Status.ISSUED)
    def release(self) -> None:
        pass

    @transition(field=status, source=[Status.ISSUED, Status.CLAIMED], target=Status.EXPIRED)
    def expire(self) -> None:
        pass

    @transition(field=status, source=Status.ISSUED, target=Status.CANCELLED)
    def cancel(self) -> None:
        pass

    @transition(field=status, source=[Status.CLAIMED, Status.EXPIRED], target=Status.FULLY_REDEEMED)
    def redeem_fully(self) -> None:
        pass


class Forward(models.Model):
    """A customer forwarded the voucher to a FastTrack Ready Partner (R-VOU-4)."""

    voucher = models.ForeignKey(Voucher, on_delete=models.CASCADE, related_name="forwards")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    message = models.TextField(blank=True, max_length=2000)
    forwarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.voucher} -> {self.partner}"


class Extension(models.Model):
    """R-VOU-9: the customer asks once, before expiry and after the SOW was approved, for
    more time; a reviewer decides. Length and count are program data."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="extensions")
    reason = models.TextField(max_length=2000)
    days = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    previous_expires_on = models.DateField()
    new_expires_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["voucher"], condition=Q(status="pending"), name="extension_one_pending"
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(new_expires_on__gt=F("previous_expires_on")),
                name="extension_moves_expiry_later",
            ),
        ]

    def __str__(self) -> str:
        return f"Extension of {self.voucher_id} ({self.status})"


class ReminderMarker(models.Model):
    """One row per voucher, reminder kind and threshold: "this reminder was dealt with".

    Written in the transaction that writes the outgoing mail to the outbox; the unique
    constraint makes a second send impossible whatever the workers do (R-VOU-8)."""

    class Kind(models.TextChoices):
        EXPIRY = "expiry", "Expiry reminder to the customer"
        POE = "poe", "POE-due reminder to the partner"

    class Outcome(models.TextChoices):
        SENT = "sent", "Sent"
        PASSED = "passed", "Passed (a nearer threshold was sent instead)"

    voucher = models.ForeignKey(Voucher, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    days_before = models.PositiveSmallIntegerField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    mail = models.ForeignKey(
        "notifications.OutboundMail",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["voucher", "kind", "days_before"], name="reminder_once_per_threshold"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.days_before}d for {self.voucher_id}: {self.outcome}"
