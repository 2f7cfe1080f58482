from django_countries.serializer_fields import CountryField
from rest_framework import serializers

from core.choices import Category
from customers.models import Customer


class CustomerSerializer(serializers.ModelSerializer):
    country = CountryField()

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
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs: dict) -> dict:
        category = attrs.get("category", getattr(self.instance, "category", None))
        public = attrs.get(
            "public_institution", getattr(self.instance, "public_institution", False)
        )
        if public and category != Category.EDUCATION:
            raise serializers.ValidationError(
                {
                    "public_institution": [
                        "Only education customers can be marked a public institution."
                    ]
                }
            )
        return attrs
