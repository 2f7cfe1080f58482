"""Strict list parameters for the API: a query parameter the schema declares either means
what it says or is refused with a 400. DRF and django-filter forgive by default (a
`limit=abc` falls back to the page size, an empty `status=` filters nothing), which hides
client bugs and makes the published schema a lie; the schema fuzzer (tests/test_api_fuzz.py)
holds the API to these rules."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from django_filters.rest_framework import BooleanFilter, DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

MAX_LIMIT = 500


def _non_negative_int(request: Request, name: str, *, minimum: int, maximum: int | None) -> int:
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise ValidationError({name: ["Give this parameter once."]})
    raw = values[0]
    if not raw.isascii() or not raw.isdigit():
        raise ValidationError({name: ["A whole number is required."]})
    value = int(raw)
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise ValidationError({name: [f"Must be {bound}."]})
    return value


class StrictLimitOffsetPagination(LimitOffsetPagination):
    """limit in 1..500, offset >= 0, each given at most once; anything else is a 400."""

    max_limit = MAX_LIMIT

    def get_limit(self, request: Request) -> int | None:
        if self.limit_query_param not in request.query_params:
            return self.default_limit
        return _non_negative_int(request, self.limit_query_param, minimum=1, maximum=self.max_limit)

    def get_offset(self, request: Request) -> int:
        if self.offset_query_param not in request.query_params:
            return 0
        return _non_negative_int(request, self.offset_query_param, minimum=0, maximum=None)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": self.max_limit},
            self.offset_query_param: {"minimum": 0},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter, except that a declared filter given empty or more than once is a 400
    rather than silently ignored (an empty `status=` would otherwise list everything)."""

    def filter_queryset(
        self, request: Request, queryset: QuerySet[Any], view: Any
    ) -> QuerySet[Any]:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is not None:
            errors: dict[str, list[str]] = {}
            for name in filterset.filters:
                values = request.query_params.getlist(name)
                if len(values) > 1:
                    errors[name] = ["Give this filter once."]
                elif values and not values[0].strip():
                    errors[name] = ["This filter needs a value; leave it out to list all."]
                elif (
                    values
                    and isinstance(filterset.filters[name], BooleanFilter)
                    and values[0] not in ("true", "false")
                ):
                    errors[name] = ["Use true or false."]
            if errors:
                raise ValidationError(errors)
        return cast("QuerySet[Any]", super().filter_queryset(request, queryset, view))


MAX_SEARCH = 100


def _single(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise ValidationError({name: ["Give this parameter once."]})
    return values[0]


class StrictSearchFilter(SearchFilter):
    """`search`: free text over the names and codes a person would type (api.md), on the
    lists whose view names `search_fields`; each word must match one of them. Empty, given
    twice or longer than 100 characters is a 400."""

    def get_search_terms(self, request: Request) -> list[str]:
        raw = _single(request, self.search_param)
        if raw is None:
            return []
        if not raw.strip():
            raise ValidationError({self.search_param: ["Type something to search for."]})
        if len(raw) > MAX_SEARCH:
            raise ValidationError({self.search_param: [f"At most {MAX_SEARCH} characters."]})
        return super().get_search_terms(request)

    def filter_queryset(
        self, request: Request, queryset: QuerySet[Any], view: Any
    ) -> QuerySet[Any]:
        if not getattr(view, "search_fields", None):
            return queryset
        return super().filter_queryset(request, queryset, view)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        if not getattr(view, "search_fields", None):
            return []
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["description"] = (
                "Free text over the names and codes a person types (customer, partner, "
                "voucher code, TPID); every word must match."
            )
            parameter["schema"].update({"minLength": 1, "maxLength": MAX_SEARCH, "pattern": r"\S"})
        return parameters


class StrictOrderingFilter(OrderingFilter):
    """`ordering`: a comma-separated list of the view's `ordering_fields`, each optionally
    prefixed with `-`; an unknown field is a 400 (DRF would ignore it silently)."""

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
        raw = _single(request, self.ordering_param)
        if raw is None:
            return self.get_default_ordering(view)
        allowed = {name for name, _ in self.get_valid_fields(queryset, view, {"request": request})}
        terms = [term.strip() for term in raw.split(",")]
        unknown = [t for t in terms if not t or t.lstrip("-") not in allowed]
        if unknown:
            raise ValidationError(
                {self.ordering_param: [f"Order by one of: {', '.join(sorted(allowed))}."]}
            )
        return [*terms, "pk"] if "pk" not in terms and "-pk" not in terms else terms

    def filter_queryset(
        self, request: Request, queryset: QuerySet[Any], view: Any
    ) -> QuerySet[Any]:
        if not getattr(view, "ordering_fields", None):
            return queryset
        return super().filter_queryset(request, queryset, view)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        fields = getattr(view, "ordering_fields", None)
        if not fields:
            return []
        choices = sorted({*fields, *(f"-{f}" for f in fields)})
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Sort by this field; `-` first for descending.",
                "schema": {"type": "string", "enum": choices},
            }
        ]
