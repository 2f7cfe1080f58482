"""One application error and one DRF exception handler.

Every refusal, whatever raised it, reaches the client as

    {"detail": "<sentence>", "code": "<code>", "rule": "R-...",
     "violations": [{"rule": "R-...", "message": "..."}], "fields": {...}}

`rule` is the first violated program rule (program-rules.md), `violations` all of them,
`fields` the per-field messages of invalid input. Keys without content are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


@dataclass(frozen=True)
class Violation:
    """One failed program rule: its ID from program-rules.md and a plain sentence."""

    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "message": self.message}


class ApplicationError(Exception):
    """A refusal the user can act on. 400 for bad or ineligible input, 409 for state."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        rule: str | None = None,
        violations: Iterable[Violation] = (),
        fields: Mapping[str, list[str]] | None = None,
        code: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.violations = list(violations)
        self.rule = rule or (self.violations[0].rule if self.violations else None)
        if self.rule and not self.violations:
            self.violations = [Violation(self.rule, message)]
        self.fields = dict(fields or {})
        self.code = code or self.default_code
        if status_code is not None:
            self.status_code = status_code

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"detail": self.message, "code": self.code}
        if self.rule:
            body["rule"] = self.rule
        if self.violations:
            body["violations"] = [v.as_dict() for v in self.violations]
        if self.fields:
            body["fields"] = self.fields
        return body


class RuleViolation(ApplicationError):
    """Refused by one or more program rules (400)."""

    default_code = "rule_violation"

    @classmethod
    def of(cls, violations: Iterable[Violation]) -> RuleViolation:
        items = list(violations)
        message = " ".join(v.message for v in items)
        return cls(message, violations=items)


class StateConflict(ApplicationError):
    """The object's state forbids the action: already claimed, already submitted (409)."""

    status_code: int = status.HTTP_409_CONFLICT
    default_code = "conflict"


def refusals_joined(first: ApplicationError, second: ApplicationError) -> ApplicationError:
    """Two refusals of one submission as one answer, so that a person corrects everything
    in one round: every violation and field message of both; the second's rule and code
    (the more specific, e.g. the document's) lead."""
    fields: dict[str, list[str]] = {k: list(v) for k, v in first.fields.items()}
    for key, messages in second.fields.items():
        fields.setdefault(key, []).extend(messages)
    return ApplicationError(
        f"{first.message} {second.message}",
        rule=second.rule or first.rule,
        violations=[*first.violations, *second.violations],
        fields=fields,
        code=second.code,
        status_code=max(first.status_code, second.status_code),
    )


def _field_messages(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, Mapping):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(value, Mapping):
                for sub, msgs in _field_messages(value).items():
                    out[f"{key}.{sub}"] = msgs
            elif isinstance(value, list):
                flat: list[str] = []
                for item in value:
                    if isinstance(item, Mapping):
                        for sub, msgs in _field_messages(item).items():
                            out[f"{key}.{sub}"] = msgs
                    else:
                        flat.append(str(item))
                if flat:
                    out[str(key)] = flat
            else:
                out[str(key)] = [str(value)]
        return out
    if isinstance(detail, list):
        return {"non_field_errors": [str(d) for d in detail]}
    return {"non_field_errors": [str(detail)]}


def _only_uniqueness(codes: Any) -> bool:
    """True when every code in DRF's nested error codes is a uniqueness failure."""
    if isinstance(codes, Mapping):
        items = list(codes.values())
    elif isinstance(codes, list):
        items = codes
    else:
        return bool(codes == "unique")
    return bool(items) and all(_only_uniqueness(item) for item in items)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        headers = {"Retry-After": str(exc.retry_after)} if hasattr(exc, "retry_after") else None
        return Response(exc.as_dict(), status=exc.status_code, headers=headers)
    if isinstance(exc, DjangoValidationError):
        fields = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(fields)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, exceptions.ValidationError) and _only_uniqueness(exc.get_codes()):
        # "already exists" is a conflict with the stored state, not malformed input.
        fields = _field_messages(exc.detail)
        message = next(iter(fields.values()))[0]
        body = {"detail": message, "code": "already_exists", "fields": fields}
        return Response(body, status=status.HTTP_409_CONFLICT)

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _field_messages(exc.detail)
        first = next(iter(fields.items()), None)
        message = "The request has invalid fields."
        if first:
            message = (
                f"{first[0]}: {first[1][0]}" if first[0] != "non_field_errors" else first[1][0]
            )
        response.data = {"detail": message, "code": "invalid", "fields": fields}
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        response.data = {
            "detail": str(detail),
            "code": getattr(detail, "code", exc.default_code),
        }
    return response
