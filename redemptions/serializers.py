from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.choices import Role
from core.events import events_for
from core.scopes import effective_role
from core.serializers import (
    EventSerializer,
    ModelSerializer,
    MoneyInputField,
    Serializer,
    StrictCharField,
)
from redemptions.models import PaymentRequest, RequestDocument
from redemptions.selectors import request_flags

# Who reads a request's flags: they are evidence about both organisations, for review.
FLAG_READERS = frozenset({Role.REVIEWER, Role.PROGRAM_MANAGER})


class FlagSerializer(Serializer):
    rule = serializers.CharField(help_text="The program rule, e.g. R-VOU-7.")
    message = serializers.CharField(help_text="Why the reviewer should look.")


class RequestDocumentSerializer(ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = RequestDocument
        fields = ["version", "sha256", "size", "pages", "uploaded_at", "url"]

    def get_url(self, obj: RequestDocument) -> str:
        return reverse("api:request-document", args=[obj.request_id, obj.version])


class SignatureSerializer(Serializer):
    name = serializers.CharField(
        allow_null=True,
        help_text="digital: the signer's name from the certificate; scan: the typed signer.",
    )
    kind = serializers.ChoiceField(choices=["digital", "scan"])
    intact = serializers.BooleanField(
        allow_null=True, help_text="digital: unchanged since signed; scan: null."
    )
    trusted = serializers.BooleanField(
        allow_null=True,
        help_text="digital: the certificate chains to a configured trust list; scan: null.",
    )
    signed_at = serializers.DateTimeField(allow_null=True)
    detail = serializers.CharField()
    party = serializers.ChoiceField(
        choices=["customer", "partner"], allow_null=True, help_text="Whose signature field."
    )
    typed_name = serializers.CharField(
        allow_blank=True, help_text="The signer typed for that party on submission."
    )


class PaymentRequestSerializer(ModelSerializer):
    voucher = StrictCharField(source="voucher.code")
    documents = RequestDocumentSerializer(many=True, read_only=True)
    events = serializers.SerializerMethodField()
    flags = serializers.SerializerMethodField(
        help_text="For reviewers and program managers (empty for others): what to weigh "
        "beyond the automatic checks, such as an unconfirmed same-company check (R-VOU-7)."
    )
    signatures = serializers.SerializerMethodField(
        help_text="The signatures of the latest document, as the upload check read them "
        "(R-DOC-1): digital (PAdES) from the certificates, or a scan's wet-ink boxes."
    )

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
            "answer",
            "rejection_reason",
            "payout_amount",
            "decided_at",
            "documents",
            "events",
            "flags",
            "signatures",
            "signatures_checked",
        ]
        read_only_fields = fields

    def get_events(self, obj: PaymentRequest) -> list[dict[str, Any]]:
        if not self.context.get("with_events"):
            return []
        return EventSerializer(events_for("request", obj.pk), many=True).data  # type: ignore[return-value]

    @extend_schema_field(FlagSerializer(many=True))
    def get_flags(self, obj: PaymentRequest) -> list[dict[str, str]]:
        request = self.context.get("request")
        if request is None or effective_role(request.user) not in FLAG_READERS:
            return []
        return [flag.as_dict() for flag in request_flags(obj)]

    @extend_schema_field(SignatureSerializer(many=True))
    def get_signatures(self, obj: PaymentRequest) -> list[dict[str, Any]]:
        documents = list(obj.documents.all())  # prefetched by the views
        if not documents:
            return []
        latest = max(documents, key=lambda document: document.version)
        return [
            {key: signature.get(key) for key in SIGNATURE_FIELDS} for signature in latest.signatures
        ]


SIGNATURE_FIELDS = (
    "name",
    "kind",
    "intact",
    "trusted",
    "signed_at",
    "detail",
    "party",
    "typed_name",
)


class ApproveSerializer(Serializer):
    signatures_checked = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Required true for a scanned document: the reviewer confirms both wet-ink "
        "signatures (R-DOC-1).",
    )


class RequestSubmitSerializer(Serializer):
    kind = serializers.ChoiceField(choices=PaymentRequest.Kind.choices)
    document = serializers.FileField(help_text="The signed program template, as PDF.")
    sow_value = MoneyInputField(required=False, allow_null=True, min_value=Decimal("0.01"))
    customer_signer = StrictCharField(max_length=120)
    customer_signed_on = serializers.DateField()
    partner_signer = StrictCharField(max_length=120)
    partner_signed_on = serializers.DateField()


class RequestAmendSerializer(Serializer):
    document = serializers.FileField(required=False)
    sow_value = MoneyInputField(required=False, min_value=Decimal("0.01"))
    customer_signer = StrictCharField(max_length=120, required=False)
    customer_signed_on = serializers.DateField(required=False)
    partner_signer = StrictCharField(max_length=120, required=False)
    partner_signed_on = serializers.DateField(required=False)
    answer = StrictCharField(
        max_length=4000,
        required=False,
        allow_blank=True,
        help_text="The answer to the reviewer's question, in words (R-DOC-2).",
    )


class RejectReasonSerializer(Serializer):
    reason = StrictCharField(max_length=4000, allow_blank=True)


class QuestionSerializer(Serializer):
    question = StrictCharField(max_length=4000, allow_blank=True)
