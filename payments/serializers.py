from decimal import Decimal

from rest_framework import serializers

from payments.models import FxRate


class FxRateSerializer(serializers.ModelSerializer):
    rate_per_usd = serializers.DecimalField(
        max_digits=18, decimal_places=6, min_value=Decimal("0.000001")
    )

    class Meta:
        model = FxRate
        fields = ["id", "currency", "rate_per_usd", "valid_from", "created_at"]
        read_only_fields = ["id", "created_at"]
