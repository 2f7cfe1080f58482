from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.choices import LicensingChannel
from core.events import events_for
from core.serializers import (
    EventSerializer,
    ModelSerializer,
    MoneyInputField,
    Serializer,
    StrictBooleanField,
    StrictCharField,
)
from nominations.models import AgreementType, MigrationSource, Nomination


class NominationInputSerializer(Serializer):
    program = StrictCharField(help_text="Program code, e.g. FY24-MWSDO.")
    customer = StrictCharField(help_text="Customer TPID.")
    offer = StrictCharField(help_text="DEPLOY, MIGRATE or COPILOT.")
    workloads = serializers.ListField(child=StrictCharField(max_length=40), max_length=20)
    deal_value = MoneyInputField(min_value=0)
    expected_close_date = serializers.DateField()
    agreement_type = serializers.ChoiceField(choices=AgreementType.choices, default="new")
    upsell_expansion = StrictBooleanField(default=False)
    migration_sources = serializers.ListField(
        child=serializers.ChoiceField(choices=MigrationSource.choices), required=False, default=list
    )
    ecif_funded = StrictBooleanField(default=False)
    licensing_channel = serializers.ChoiceField(
        choices=LicensingChannel.choices,
        default=LicensingChannel.EA,
        help_text="How the deal is licensed; `csp` is refused (R-ELIG-2).",
    )
    notes = StrictCharField(required=False, allow_blank=True, max_length=2000, default="")


class NominationUpdateSerializer(Serializer):
    """PATCH: the fields to change, each optional and without a default (left out, a field
    stays as it is). `program` and `customer` may be sent back unchanged; to nominate
    another customer or program, withdraw this one and nominate again (R-ELIG-9)."""

    program = StrictCharField(required=False, help_text="Unchangeable: the current code.")
    customer = StrictCharField(required=False, help_text="Unchangeable: the current TPID.")
    offer = StrictCharField(required=False, help_text="DEPLOY, MIGRATE or COPILOT.")
    workloads = serializers.ListField(
        child=StrictCharField(max_length=40), max_length=20, required=False
    )
    deal_value = MoneyInputField(min_value=0, required=False)
    expected_close_date = serializers.DateField(required=False)
    agreement_type = serializers.ChoiceField(choices=AgreementType.choices, required=False)
    upsell_expansion = StrictBooleanField(required=False)
    migration_sources = serializers.ListField(
        child=serializers.ChoiceField(choices=MigrationSource.choices), required=False
    )
    ecif_funded = StrictBooleanField(required=False)
    licensing_channel = serializers.ChoiceField(
        choices=LicensingChannel.choices,
        required=False,
        help_text="How the deal is licensed; `csp` is refused (R-ELIG-2).",
    )
    notes = StrictCharField(required=False, allow_blank=True, max_length=2000)


class WithdrawSerializer(Serializer):
    reason = StrictCharField(max_length=2000, allow_blank=True, help_text="Why (required).")


class NominationSerializer(ModelSerializer):
    program = StrictCharField(source="program.code")
    customer = StrictCharField(source="customer.tpid")
    customer_name = StrictCharField(source="customer.name")
    customer_verification = StrictCharField(
        source="customer.verification",
        help_text="`unverified`: a field rep added the customer; a program manager must "
        "verify it before the nomination can be approved (R-ELIG-8).",
    )
    offer = StrictCharField(source="offer.code")
    nominated_by = StrictCharField(source="nominated_by.username")
    voucher = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()

    class Meta:
        model = Nomination
        fields = [
            "id",
            "status",
            "program",
            "customer",
            "customer_name",
            "customer_verification",
            "offer",
            "workloads",
            "deal_value",
            "expected_close_date",
            "agreement_type",
            "upsell_expansion",
            "migration_sources",
            "ecif_funded",
            "licensing_channel",
            "notes",
            "nominated_by",
            "estimated_value",
            "estimated_cap",
            "rejection_reason",
            "withdrawal_reason",
            "decided_at",
            "closed_on",
            "purchase_amount",
            "voucher",
            "created_at",
            "events",
        ]
        read_only_fields = fields

    def get_voucher(self, obj: Nomination) -> str | None:
        voucher = getattr(obj, "voucher", None)
        return voucher.code if voucher is not None else None

    def get_events(self, obj: Nomination) -> list[dict[str, Any]]:
        if not self.context.get("with_events"):
            return []
        return EventSerializer(events_for("nomination", obj.pk), many=True).data  # type: ignore[return-value]


class RejectSerializer(Serializer):
    reason = StrictCharField(max_length=2000, allow_blank=True)


class CloseDealSerializer(Serializer):
    closed_on = serializers.DateField()
    purchase_amount = MoneyInputField(min_value=0)
    value = MoneyInputField(required=False, allow_null=True)


class ViolationOut(Serializer):
    rule = StrictCharField()
    message = StrictCharField()


class CheckResultSerializer(Serializer):
    eligible = StrictBooleanField()
    violations = ViolationOut(many=True)
    cap = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    cap_row = StrictCharField(allow_null=True)
    cap_reason = StrictCharField(
        allow_null=True, allow_blank=True, help_text="Why that row applies (R-CAP-3)."
    )
    suggested_value = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    scheme = StrictCharField()
