from decimal import Decimal

from rest_framework import serializers

from core.serializers import (
    ModelSerializer,
    MoneyInputField,
    Serializer,
    StrictBooleanField,
    StrictCharField,
)
from core.validators import CurrencyField
from payments.models import Dispute, FxRate, Payment, PaymentBatch


class FxRateSerializer(ModelSerializer):
    currency = CurrencyField()
    rate_per_usd = serializers.DecimalField(
        max_digits=18, decimal_places=6, min_value=Decimal("0.000001")
    )

    class Meta:
        model = FxRate
        fields = ["id", "currency", "rate_per_usd", "valid_from", "created_at"]
        read_only_fields = ["id", "created_at"]


class PaymentSerializer(ModelSerializer):
    voucher = StrictCharField(source="voucher.code")
    partner = StrictCharField(source="partner.partner_id")
    batch_status = serializers.SerializerMethodField(
        help_text="`exported` once the payment is in a Payment Central batch not yet "
        "confirmed paid, `confirmed` once paid; null before it is exported (R-PAY-2)."
    )
    reference = serializers.SerializerMethodField(
        help_text="Payment Central's reference of the payment run that paid it, once paid."
    )

    class Meta:
        model = Payment
        fields = [
            "id",
            "kind",
            "request",
            "dispute",
            "voucher",
            "partner",
            "amount_usd",
            "currency",
            "fx_rate",
            "amount_local",
            "approved_on",
            "expected_on",
            "status",
            "batch",
            "batch_status",
            "paid_at",
            "reference",
        ]
        read_only_fields = fields

    def get_batch_status(self, obj: Payment) -> str | None:
        return obj.batch.status if obj.batch is not None else None

    def get_reference(self, obj: Payment) -> str | None:
        if obj.batch is None or obj.status != obj.Status.PAID:
            return None
        return obj.batch.reference


class BatchSerializer(ModelSerializer):
    payments = serializers.IntegerField(source="payments.count", read_only=True)

    class Meta:
        model = PaymentBatch
        fields = ["id", "status", "created_at", "confirmed_at", "reference", "payments"]
        read_only_fields = fields


class BatchConfirmSerializer(Serializer):
    reference = StrictCharField(
        max_length=64,
        allow_blank=True,
        help_text="Payment Central's reference of the payment run that paid the batch (R-PAY-2).",
    )


class DisputeSerializer(ModelSerializer):
    partner = StrictCharField(source="partner.partner_id", read_only=True)

    class Meta:
        model = Dispute
        fields = [
            "id",
            "partner",
            "request",
            "text",
            "status",
            "opened_at",
            "resolution",
            "adjustment_usd",
            "resolved_at",
        ]
        read_only_fields = [
            "id",
            "partner",
            "status",
            "opened_at",
            "resolution",
            "adjustment_usd",
            "resolved_at",
        ]


class DisputeResolveSerializer(Serializer):
    uphold = StrictBooleanField()
    resolution = StrictCharField(max_length=4000, allow_blank=True)
    adjustment_usd = MoneyInputField(required=False, allow_null=True)


class DisputeOpenSerializer(Serializer):
    """Only the shape is checked here; the request is looked up within the caller's scope
    by the service, so another tenant's request answers 404 like a missing one."""

    request = serializers.IntegerField(min_value=1)
    text = StrictCharField(max_length=4000)
