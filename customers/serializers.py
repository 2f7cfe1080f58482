from typing import Any

from core.choices import Category
from core.errors import ApplicationError
from core.serializers import ModelSerializer, StrictCountryField
from customers.models import Customer


class CustomerSerializer(ModelSerializer):
    country = StrictCountryField()

    class Meta:
        model = Customer
        fields = [
            "tpid",
            "name",
            "country",
            "category",
            "segment",
            "e3_licenses",
            "public_institution",
            "company",
            "verification",
            "verified_at",
            "created_at",
            "updated_at",
        ]
        # `verification`: a program manager's customer is verified, a field rep's is
        # unverified until a program manager verifies it (R-ELIG-8); never set by a client.
        read_only_fields = ["verification", "verified_at", "created_at", "updated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        category = attrs.get("category", getattr(self.instance, "category", None))
        public = attrs.get(
            "public_institution", getattr(self.instance, "public_institution", False)
        )
        if public and category != Category.EDUCATION:
            # program-rules.md, public sector: Education marked a public institution is on
            # the public-sector scheme; no other category can be marked.
            message = "Only education customers can be marked a public institution."
            raise ApplicationError(
                message, fields={"public_institution": [message]}, code="public_institution"
            )
        return attrs
