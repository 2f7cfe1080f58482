from babel.numbers import list_currencies
from django.core.exceptions import ValidationError
from rest_framework import serializers

_CURRENCIES = frozenset(list_currencies())
CURRENCY_CHOICES = [(code, code) for code in sorted(_CURRENCIES)]


def validate_currency(value: str) -> None:
    """ISO 4217 alphabetic code, upper case (R-PAY-1: partners are paid in local currency)."""
    if value not in _CURRENCIES or value != value.upper():
        raise ValidationError(f"{value!r} is not an ISO 4217 currency code.", code="currency")


class CurrencyField(serializers.ChoiceField):
    """An ISO 4217 code in the API: published as an enum, so the schema says which codes
    the server takes."""

    default_error_messages = {"invalid_choice": '"{input}" is not an ISO 4217 currency code.'}

    def __init__(self, **kwargs: object) -> None:
        super().__init__(choices=CURRENCY_CHOICES, **kwargs)  # type: ignore[arg-type]
