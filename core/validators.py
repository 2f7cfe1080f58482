from babel.numbers import list_currencies
from django.core.exceptions import ValidationError

_CURRENCIES = frozenset(list_currencies())


def validate_currency(value: str) -> None:
    """ISO 4217 alphabetic code, upper case (R-PAY-1: partners are paid in local currency)."""
    if value not in _CURRENCIES or value != value.upper():
        raise ValidationError(f"{value!r} is not an ISO 4217 currency code.", code="currency")
