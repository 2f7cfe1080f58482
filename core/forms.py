"""Form fields shared by the pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from core.money import MoneyFormatError, parse_money


class MoneyFormField(forms.DecimalField):
    """Money typed into a page, read by the one money parser (core.money.parse_money), as
    the API reads it: NaN, Infinity, more than two decimals or an amount beyond the money
    columns is a form error on the field, never a 500."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]  # stubs say int
        if value in self.empty_values:
            return None
        try:
            return parse_money(value)
        except MoneyFormatError as exc:
            raise ValidationError(str(exc), code="invalid") from exc
