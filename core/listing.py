"""Search and sortable columns for the list pages: `?q=` over the names and codes a
person types (each word must match one of the fields), `?sort=` over the columns a page
declares (`-` for descending). The API does the same with `search` and `ordering`
(core.api_lists)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest

MAX_QUERY = 100


@dataclass(frozen=True)
class Listing:
    q: str
    sort: str  # the column key, "-" first when descending; "" for the page's own order
    columns: dict[str, str]  # column key -> model field path

    def direction(self, key: str) -> str:
        """ "ascending", "descending" or "" for a column header's aria-sort."""
        if self.sort == key:
            return "ascending"
        if self.sort == f"-{key}":
            return "descending"
        return ""


def searched(queryset: QuerySet[Any], q: str, fields: list[str]) -> QuerySet[Any]:
    for word in q.split():
        queryset = queryset.filter(reduce(or_, (Q(**{f"{f}__icontains": word}) for f in fields)))
    return queryset


def listing(
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    search: list[str],
    columns: dict[str, str],
) -> tuple[QuerySet[Any], Listing]:
    """The page's rows searched and sorted as the query string asks; an unknown sort key
    or an over-long search is ignored rather than refused (a page, not an API)."""
    q = " ".join(request.GET.get("q", "").split())[:MAX_QUERY]
    if q:
        queryset = searched(queryset, q, search)
    sort = request.GET.get("sort", "")
    key = sort.removeprefix("-")
    if key in columns:
        field = columns[key]
        queryset = queryset.order_by(f"-{field}" if sort.startswith("-") else field, "-pk")
    else:
        sort = ""
    return queryset, Listing(q=q, sort=sort, columns=columns)
