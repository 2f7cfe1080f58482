from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.events import events_for
from core.serializers import (
    EventSerializer,
    ModelSerializer,
    Serializer,
    StrictBooleanField,
    StrictCharField,
)
from vouchers.models import Extension, Voucher


class VoucherSerializer(ModelSerializer):
    offer = StrictCharField(source="offer.code")
    customer = StrictCharField(source="customer.tpid")
    customer_name = StrictCharField(source="customer.name")
    program = StrictCharField(source="program.code")
    partner = StrictCharField(source="partner.partner_id", default=None, allow_null=True)
    partner_name = StrictCharField(source="partner.name", default=None, allow_null=True)
    events = serializers.SerializerMethodField()

    class Meta:
        model = Voucher
        fields = [
            "code",
            "offer",
            "customer",
            "customer_name",
            "program",
            "value",
            "issued_on",
            "expires_on",
            "status",
            "partner",
            "partner_name",
            "paid_total",
            "scheme",
            "workloads",
            "cap",
            "cap_row",
            "events",
        ]
        read_only_fields = fields

    def get_events(self, obj: Voucher) -> list[dict[str, Any]]:
        if not self.context.get("with_events"):
            return []
        return EventSerializer(events_for("voucher", obj.pk), many=True).data  # type: ignore[return-value]


class ForwardSerializer(Serializer):
    partner = StrictCharField(
        max_length=32, help_text="The partner ID of a FastTrack Ready Partner."
    )
    message = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")


class DeclineSerializer(Serializer):
    reason = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")


class ExtensionSerializer(ModelSerializer):
    voucher = StrictCharField(source="voucher.code", read_only=True)

    class Meta:
        model = Extension
        fields = [
            "id",
            "voucher",
            "reason",
            "days",
            "status",
            "requested_at",
            "decided_at",
            "decision_note",
            "previous_expires_on",
            "new_expires_on",
        ]
        read_only_fields = [
            "id",
            "voucher",
            "days",
            "status",
            "requested_at",
            "decided_at",
            "decision_note",
            "previous_expires_on",
            "new_expires_on",
        ]


class ExtensionDecisionSerializer(Serializer):
    approve = StrictBooleanField()
    note = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")


class CombinedPartSerializer(Serializer):
    group = StrictCharField()
    offer = StrictCharField()
    voucher = StrictCharField(
        allow_null=True, help_text="Null when another partner redeems that voucher."
    )
    part_cap = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    paid = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        allow_null=True,
        help_text="Null when another partner redeems that voucher.",
    )
    left = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)


class CombinedPositionSerializer(Serializer):
    """R-CAP-4: the customer's combined position, as both vouchers read it."""

    row = StrictCharField(help_text="The combined row's key.")
    row_label = StrictCharField()
    deciding_date = serializers.DateField(
        help_text="The later deal date of the customer's vouchers: it decides the row."
    )
    combined_cap = serializers.DecimalField(max_digits=14, decimal_places=2)
    paid = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    left = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    payable_on_this_voucher = serializers.DecimalField(max_digits=14, decimal_places=2)
    parts = CombinedPartSerializer(many=True)
