from typing import Any

from django.db import models


class MoneyField(models.DecimalField):  # type: ignore[type-arg]  # django-stubs' field generics
    """USD with two decimals (api.md: money is a decimal string with 2 places)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)
