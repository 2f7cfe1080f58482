from typing import Any

from core.choices import Role
from core.scopes import effective_role
from core.serializers import ModelSerializer, StrictCountryField
from core.validators import CurrencyField
from partners.models import Partner


class PartnerSerializer(ModelSerializer):
    currency = CurrencyField()
    country = StrictCountryField()

    class Meta:
        model = Partner
        fields = [
            "partner_id",
            "name",
            "country",
            "currency",
            "company",
            "frp_approved",
            "payment_profile_ref",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def to_representation(self, instance: Partner) -> dict[str, Any]:
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and effective_role(request.user) == Role.CUSTOMER:
            data.pop("payment_profile_ref", None)  # the directory shows no payment details
        return data
