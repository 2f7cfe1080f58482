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
            "status",
            "batch",
            "paid_at",
        ]
        read_only_fields = fields


class BatchSerializer(ModelSerializer):
    payments = serializers.IntegerField(source="payments.count", read_only=True)

    class Meta:
        model = PaymentBatch
        fields = ["id", "status", "created_at", "confirmed_at", "payments"]
        read_only_fields = fields


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
