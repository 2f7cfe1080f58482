from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import models
from django_countries import countries
from django_countries.serializer_fields import CountryField
from rest_framework import serializers

from core.models import Event
from core.money import MoneyFormatError, parse_money

# DRF's serializers are generic in their instance type for mypy only; these bases carry
# the type argument so every serializer need not.
if TYPE_CHECKING:
    Serializer = serializers.Serializer[Any]
    BaseModelSerializer = serializers.ModelSerializer[Any]
else:
    Serializer = serializers.Serializer
    BaseModelSerializer = serializers.ModelSerializer


class StrictCharField(serializers.CharField):
    """A string field that takes only strings. DRF's CharField turns 42 into "42", so a
    client sending the wrong JSON type never hears of it and the schema's `type: string`
    is not what the server enforces."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """true or false only; DRF also takes 0, 1, "yes", "off" and friends."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only; DRF also takes "12" and 12.0."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCountryField(CountryField):
    """An ISO 3166 alpha-2 code, as the schema's enum says. django-countries also takes
    names, numeric codes and objects, and turns 0 into an empty country."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]  # django-countries

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str) or data not in dict(countries):
            self.fail("invalid_choice", input=data)
        return data


class ModelSerializer(BaseModelSerializer):
    """DRF's ModelSerializer with strict JSON types (the Strict* fields above)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.BooleanField: StrictBooleanField,
        models.IntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.PositiveSmallIntegerField: StrictIntegerField,
        models.SmallIntegerField: StrictIntegerField,
        models.BigIntegerField: StrictIntegerField,
    }


class EventSerializer(ModelSerializer):
    actor = serializers.CharField(
        source="actor.username", default=None, read_only=True, allow_null=True
    )

    class Meta:
        model = Event
        fields = ["at", "action", "from_state", "to_state", "actor", "reason", "data"]


class MoneyInputField(serializers.DecimalField):
    """Money sent by a client, read by the one money parser (core.money.parse_money):
    NaN, Infinity, more than two decimals or an amount beyond the money columns is a 400
    naming the field. Output is the usual decimal string with two places."""

    def __init__(self, *, allow_negative: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        self.allow_negative = allow_negative
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Decimal:
        try:
            amount = parse_money(data, allow_negative=self.allow_negative)
        except MoneyFormatError as exc:
            raise serializers.ValidationError(str(exc), code="invalid") from exc
        self.run_validators(amount)
        return amount
