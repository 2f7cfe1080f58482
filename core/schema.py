"""OpenAPI: every operation documents the error responses it can give (400/401/403/404/409)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from core.serializers import Serializer


class ViolationSerializer(Serializer):
    rule = serializers.CharField(help_text="Rule ID from program-rules.md, e.g. R-ELIG-2.")
    message = serializers.CharField()


class ErrorSerializer(Serializer):
    """The one error body (core.errors). `fields` clashes with Serializer.fields as a class
    attribute, so the fields are declared in get_fields()."""

    def get_fields(self) -> dict[str, serializers.Field]:  # type: ignore[type-arg]
        return {
            "detail": serializers.CharField(),
            "code": serializers.CharField(),
            "rule": serializers.CharField(required=False),
            "violations": ViolationSerializer(many=True, required=False),
            "fields": serializers.DictField(
                child=serializers.ListField(child=serializers.CharField()), required=False
            ),
        }


_ERRORS = {
    "400": "Invalid input, or refused by a program rule (see `rule`).",
    "401": "Not authenticated.",
    "403": "Your role may not use this endpoint.",
    "404": "Not found (or another organisation's object).",
    "409": "The object's state does not allow this (see `rule`).",
    "429": "Too many attempts; try again later (`Retry-After`).",
}

# The canonical voucher code (vouchers/codes.py): four groups of four from the 32-letter
# alphabet. The server also accepts lower case and spaces, and answers a code whose check
# character does not match with 400 `mistyped_code`.
# Actions that call core.ratelimit.rate_limit themselves (no DRF throttle class to see).
RATE_LIMITED = {"claim"}

VOUCHER_CODE_PATTERN = (
    r"^[2-9A-HJ-NP-Z]{4}-?[2-9A-HJ-NP-Z]{4}-?[2-9A-HJ-NP-Z]{4}-?[2-9A-HJ-NP-Z]{4}$"
)


class PortalAutoSchema(AutoSchema):
    def _get_response_bodies(
        self, direction: Literal["request", "response"] = "response"
    ) -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        method = self.method.upper()
        codes = ["401", "403"]
        if method in ("POST", "PUT", "PATCH"):
            codes += ["400", "409"]
        if method == "GET" and self._is_list_view():
            codes.append("400")
        if "{" in self.path:
            codes.append("404")
        if "{" in self.path and "400" not in codes:
            # A mistyped voucher code, or a control character in a path parameter
            # (core.guard refuses NUL and the like at the edge).
            codes.append("400")
        if getattr(self.view, "throttle_classes", None) or (
            getattr(self.view, "action", None) in RATE_LIMITED
        ):
            codes.append("429")
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(response=ErrorSerializer, description=_ERRORS[code]),
                    code,
                    media_types=["application/json"],
                    direction=direction,
                )
        return responses

    def _resolve_path_parameters(self, variables: list[str]) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            if parameter["name"] == "code":
                parameter["schema"] = {"type": "string", "pattern": VOUCHER_CODE_PATTERN}
        return parameters

    def _map_serializer_field(
        self, field: Any, direction: Any, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.DecimalField) and "pattern" in schema:
            schema["pattern"] = decimal_pattern(field)
        return schema

    def _get_filter_parameters(self) -> list[dict[str, Any]]:
        """core.api_lists.StrictFilterBackend refuses an empty filter value: say so."""
        parameters: list[dict[str, Any]] = super()._get_filter_parameters()
        for parameter in parameters:
            schema = parameter.get("schema", {})
            if schema.get("type") == "string" and "enum" not in schema:
                schema["minLength"] = 1
        return parameters


def decimal_pattern(field: serializers.DecimalField) -> str:
    """What DecimalField accepts, as a regex. drf-spectacular's default
    (`^-?\\d{0,N}(?:\\.\\d{0,M})?$`) also matches "", "." and "-1" for a field with
    min_value=0, and `\\d` means any Unicode digit to a Python regex: each would be a
    schema-valid value the server refuses. Digits here are ASCII; a non-negative minimum
    drops the sign; a positive minimum at or below the smallest step excludes zero."""
    places = field.decimal_places or 0
    whole = (field.max_digits - places) if field.max_digits is not None else None
    whole_part = f"[0-9]{{1,{whole}}}" if whole is not None else "[0-9]+"
    if places:
        number = f"(?:{whole_part}(?:\\.[0-9]{{0,{places}}})?|\\.[0-9]{{1,{places}}})"
    else:
        number = whole_part
    minimum = field.min_value
    sign = "-?" if minimum is None or minimum < 0 else ""
    not_zero = ""
    if minimum is not None and 0 < minimum <= Decimal(1).scaleb(-places):
        not_zero = "(?![0.]*$)"
    return f"^{not_zero}{sign}{number}$"
