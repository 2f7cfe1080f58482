from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.urls import reverse
from rest_framework import serializers

from core.events import events_for
from core.serializers import EventSerializer, ModelSerializer, Serializer, StrictCharField
from redemptions.models import PaymentRequest, RequestDocument


class RequestDocumentSerializer(ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = RequestDocument
        fields = ["version", "sha256", "size", "pages", "uploaded_at", "url"]

    def get_url(self, obj: RequestDocument) -> str:
        return reverse("api:request-document", args=[obj.request_id, obj.version])


class PaymentRequestSerializer(ModelSerializer):
    voucher = StrictCharField(source="voucher.code")
    documents = RequestDocumentSerializer(many=True, read_only=True)
    events = serializers.SerializerMethodField()

    class Meta:
        model = PaymentRequest
        fields = [
            "id",
            "voucher",
            "kind",
            "attempt",
            "status",
            "sow_value",
            "customer_signer",
            "customer_signed_on",
            "partner_signer",
            "partner_signed_on",
            "submitted_at",
            "due_by",
            "question",
            "rejection_reason",
            "payout_amount",
            "decided_at",
            "documents",
            "events",
        ]
        read_only_fields = fields

    def get_events(self, obj: PaymentRequest) -> list[dict[str, Any]]:
        if not self.context.get("with_events"):
            return []
        return EventSerializer(events_for("request", obj.pk), many=True).data  # type: ignore[return-value]


class RequestSubmitSerializer(Serializer):
    kind = serializers.ChoiceField(choices=PaymentRequest.Kind.choices)
    document = serializers.FileField(help_text="The signed program template, as PDF.")
    sow_value = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, min_value=Decimal("0.01")
    )
    customer_signer = StrictCharField(max_length=120)
    customer_signed_on = serializers.DateField()
    partner_signer = StrictCharField(max_length=120)
    partner_signed_on = serializers.DateField()


class RequestAmendSerializer(Serializer):
    document = serializers.FileField(required=False)
    sow_value = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, min_value=Decimal("0.01")
    )
    customer_signer = StrictCharField(max_length=120, required=False)
    customer_signed_on = serializers.DateField(required=False)
    partner_signer = StrictCharField(max_length=120, required=False)
    partner_signed_on = serializers.DateField(required=False)


class RejectReasonSerializer(Serializer):
    reason = StrictCharField(max_length=4000, allow_blank=True)


class QuestionSerializer(Serializer):
    question = StrictCharField(max_length=4000, allow_blank=True)
