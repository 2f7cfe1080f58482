"""Paging whose cost does not grow with the table."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedPaginator(Paginator):  # type: ignore[type-arg]
    """Counts rows only up to a few pages past the one asked for, with a COUNT over a
    LIMITed subquery: Django's exact COUNT(*) reads every matching row, so the first page
    of a long list got slower as the list grew (`make bench`: the review queue at 100,000
    vouchers). When more rows exist, `capped` is True and the page says "of many"."""

    def __init__(self, object_list: Any, per_page: int, *, page: Any, ahead: int = 10) -> None:
        super().__init__(object_list, per_page)
        try:
            number = max(int(page), 1)
        except (TypeError, ValueError):
            number = 1
        self.cap = per_page * (number + ahead)
        self.capped = False

    @cached_property
    def count(self) -> int:
        found = self.object_list[: self.cap + 1].count()  # type: ignore[attr-defined]
        self.capped = found > self.cap
        return min(int(found), self.cap)
