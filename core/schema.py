"""OpenAPI: every operation documents the error responses it can give (400/401/403/404/409)."""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ViolationSerializer(serializers.Serializer):
    rule = serializers.CharField(help_text="Rule ID from program-rules.md, e.g. R-ELIG-2.")
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """The one error body (core.errors). `fields` clashes with Serializer.fields as a class
    attribute, so the fields are declared in get_fields()."""

    def get_fields(self) -> dict[str, serializers.Field]:
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
}


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
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(response=ErrorSerializer, description=_ERRORS[code]),
                    code,
                    direction,
                )
        return responses
