from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, transition

from core.fields import MoneyField
from core.models import TimeStampedModel


class PaymentRequest(TimeStampedModel):
    """An initial (signed SOW) or final (signed POE) payment request (R-RED-*, R-PUB-*)."""

    class Kind(models.TextChoices):
        INITIAL = "initial", "Initial payment request (SOW)"
        FINAL = "final", "Final payment request (POE)"

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        INFO_REQUESTED = "info_requested", "More information requested"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    OPEN_STATUSES = (Status.SUBMITTED, Status.INFO_REQUESTED)
    # R-VOU-8 (round 2): a redemption is a request pending (taken by a reviewer or not),
    # waiting for information or approved; a rejected request is none. Expiry reminders
    # (vouchers.reminders) reach this through the voucher's relation.
    REDEMPTION_STATUSES = (Status.SUBMITTED, Status.INFO_REQUESTED, Status.APPROVED)

    voucher = models.ForeignKey(
        "vouchers.Voucher", on_delete=models.PROTECT, related_name="payment_requests"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    attempt = models.PositiveSmallIntegerField(
        default=1, help_text="2 for the one corrected request after a rejection (R-DOC-2)."
    )
    status = FSMField(default=Status.SUBMITTED, choices=Status.choices)
    sow_value = MoneyField(null=True, blank=True)
    customer_signer = models.CharField(max_length=120)
    customer_signed_on = models.DateField()
    partner_signer = models.CharField(max_length=120)
    partner_signed_on = models.DateField()
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField()
    due_by = models.DateField(help_text="Review target (R-REV-1); paused while waiting.")
    sla_remaining_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Business days left when information was requested."
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    taken_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)
    question = models.TextField(blank=True)
    answer = models.TextField(
        blank=True,
        db_default="",
        help_text="The partner's answer to the latest question, shown to the reviewer.",
    )
    payout_amount = MoneyField(null=True, blank=True)
    signatures_checked = models.BooleanField(
        default=False,
        db_default=False,
        help_text="The approving reviewer confirmed both wet-ink signatures of a scan (R-DOC-1).",
    )
    overdue_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_by", "submitted_at", "id"]
        indexes = [
            models.Index(fields=["status", "due_by"], name="request_status_due"),
            models.Index(fields=["voucher", "kind"], name="request_voucher_kind"),
            models.Index(
                fields=["due_by"],
                condition=Q(status="submitted", overdue_notified_at__isnull=True),
                name="request_overdue_candidates",
            ),
            # The review queue's order over open requests only: its first page is an index
            # range scan whatever the number of decided requests (`make bench`).
            models.Index(
                fields=["due_by", "submitted_at", "id"],
                condition=Q(status__in=["submitted", "info_requested"]),
                name="request_open_queue",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["voucher", "kind", "attempt"], name="request_one_per_attempt"
            ),
            # R-DOC-2: one live request per kind; a rejected one may be corrected once.
            models.UniqueConstraint(
                fields=["voucher", "kind"],
                condition=~Q(status="rejected"),
                name="request_one_live_per_kind",
            ),
            models.CheckConstraint(condition=Q(attempt__in=[1, 2]), name="request_attempt_1_or_2"),
            models.CheckConstraint(
                condition=Q(kind="initial", sow_value__gt=0)
                | Q(kind="final", sow_value__isnull=True),
                name="request_sow_value_on_initial",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(rejection_reason=""),
                name="request_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(payout_amount__isnull=True) | Q(payout_amount__gte=0),
                name="request_payout_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} for {self.voucher_id}"

    @property
    def is_decided(self) -> bool:
        """Approved or rejected: what a partner may dispute (R-PAY-5)."""
        return self.status in (self.Status.APPROVED, self.Status.REJECTED)

    @property
    def short_name(self) -> str:
        """How mails and pages name the request in a sentence: "SOW (initial payment
        request)", never a lower-cased label with "(sow)"."""
        if self.kind == self.Kind.INITIAL:
            return "SOW (initial payment request)"
        return "POE (final payment request)"

    @property
    def template_kind(self) -> str:
        return "sow" if self.kind == self.Kind.INITIAL else "poe"

    @transition(field=status, source=Status.SUBMITTED, target=Status.INFO_REQUESTED)
    def ask(self) -> None:
        pass

    @transition(field=status, source=Status.INFO_REQUESTED, target=Status.SUBMITTED)
    def resubmit(self) -> None:
        pass

    @transition(field=status, source=Status.SUBMITTED, target=Status.APPROVED)
    def approve(self) -> None:
        pass

    @transition(
        field=status, source=[Status.SUBMITTED, Status.INFO_REQUESTED], target=Status.REJECTED
    )
    def reject(self) -> None:
        pass


def document_path(instance: RequestDocument, filename: str) -> str:
    """Server-chosen names only: the uploaded file name is never used as a path."""
    return f"requests/{instance.request.voucher_id}/{uuid.uuid4().hex}.pdf"


class RequestDocument(models.Model):
    """One uploaded signed PDF, stored byte for byte; amendments add versions (R-DOC-1)."""

    request = models.ForeignKey(PaymentRequest, on_delete=models.PROTECT, related_name="documents")
    version = models.PositiveSmallIntegerField()
    file = models.FileField(upload_to=document_path, max_length=200)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    pages = models.PositiveIntegerField()
    original_name = models.CharField(
        max_length=200, blank=True, help_text="Shown only; never a path."
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    signatures = models.JSONField(
        default=list,
        db_default=[],
        blank=True,
        help_text="What the upload check found (R-DOC-1): one {field, name, kind, intact, "
        "trusted, signed_at, detail} per signature; kind 'digital' or 'scan'.",
    )
    scan_boxes = models.JSONField(
        null=True,
        blank=True,
        help_text="For a scan: each signature box as {page, field, ink, empty, png}, the png a "
        "base64 crop for the reviewer. Null for a digitally signed document.",
    )

    class Meta:
        ordering = ["request", "version"]
        constraints = [
            models.UniqueConstraint(fields=["request", "version"], name="document_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.request} v{self.version}"

    @property
    def is_scan(self) -> bool:
        return self.scan_boxes is not None

    def download_name(self) -> str:
        kind = "SOW" if self.request.kind == PaymentRequest.Kind.INITIAL else "POE"
        return f"{kind}-{self.request.voucher.code}-v{self.version}.pdf"

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("Uploaded documents are kept as submitted.")
