"""Bad input refused at the edge, before any view, form or query sees it.

- NUL and other control characters in the path, the query string, header values and form
  fields (a NUL reaches PostgreSQL as an error; others corrupt exports and mail). Text
  fields may carry tabs and line breaks; nothing else below U+0020, nor DEL. JSON strings
  are checked by the API's parser (core.parsers), which knows the field's path.
- A request body larger than the largest upload the portal accepts, refused by its
  Content-Length before a byte of it is read.
- A username longer than any account's, refused before authentication (django-axes
  records failed usernames in a 255-character column).
- A database `DataError` that still gets through (a value out of a column's range) is a
  400, never a 500.

Each refusal is a 400 (413 for the body) naming the field: the API's JSON error body under
/api/, a short page elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import DataError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from core.controlchars import CONTROL_IN_TEXT, control_characters, control_path
from core.handlers import is_api
from core.ratelimit import RateLimited, refuse_sprayed_address

USERNAME_MAX = 150  # accounts.User.username (Django's AbstractUser)
AUTH_PATHS = ("/login/", "/api/v1/auth/token/")


class BadInput(Exception):
    def __init__(
        self, field: str, message: str, *, status: int = 400, code: str = "control_character"
    ):
        super().__init__(message)
        self.field, self.message, self.status, self.code = field, message, status, code


def _check_pairs(pairs: Iterable[tuple[str, list[str]]], *, where: str, text: bool) -> None:
    for key, values in pairs:
        if control_characters(key, text=False):
            raise BadInput(where, f"A {where} name contains a control character.")
        for value in values:
            if control_characters(value, text=text):
                raise BadInput(key, f"{key}: contains a control character (such as NUL).")


def max_request_bytes() -> int:
    """The largest body any endpoint accepts: the largest upload plus room for the form."""
    return int(getattr(settings, "MAX_REQUEST_BYTES", 0)) or (
        max(settings.DOCUMENT_MAX_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE, 10 * 1024 * 1024)
        + 1024 * 1024
    )


def check_request(request: HttpRequest) -> None:
    if control_characters(request.path, text=False):
        raise BadInput("path", "The address contains a control character (such as %00).")
    _check_pairs(request.GET.lists(), where="query parameter", text=False)
    for name, value in request.headers.items():
        if CONTROL_IN_TEXT.search(value) or "\n" in value or "\r" in value:
            raise BadInput(name, f"The {name} header contains a control character.")
    length = request.headers.get("content-length") or "0"
    if not length.isdigit():
        raise BadInput(
            "Content-Length", "The Content-Length header is not a number.", code="invalid"
        )
    if int(length) > max_request_bytes():
        limit = max_request_bytes() // (1024 * 1024)
        raise BadInput(
            "body", f"The request is larger than {limit} MB.", status=413, code="too_large"
        )
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    content_type = request.content_type or ""
    if request.path in AUTH_PATHS:
        refuse_sprayed_address(request)
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            fields = list(request.POST.lists())
        except Exception:
            return
        _check_pairs(fields, where="form field", text=True)
        if request.path in AUTH_PATHS:
            _check_username(request.POST.get("username", ""))
    elif content_type == "application/json" and request.path in AUTH_PATHS:
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, RecursionError):
            return  # the API's parser answers malformed JSON
        # The token endpoint may parse JSON with a parser of its own: check here too.
        where = control_path(body)
        if where:
            raise BadInput(where, f"{where}: contains a control character (such as NUL).")
        if isinstance(body, dict) and isinstance(body.get("username"), str):
            _check_username(body["username"])


def _check_username(username: str) -> None:
    if len(username) > USERNAME_MAX:
        raise BadInput(
            "username", f"username: at most {USERNAME_MAX} characters.", code="username_too_long"
        )


def refusal(request: HttpRequest, error: BadInput) -> HttpResponse:
    if is_api(request):
        body = {
            "detail": error.message,
            "code": error.code,
            "fields": {error.field: [error.message]},
        }
        return JsonResponse(body, status=error.status)
    html = render_to_string("400.html", {"message": error.message, "status": error.status})
    return HttpResponse(html, status=error.status)


def limited_response(request: HttpRequest, limited: RateLimited) -> HttpResponse:
    if is_api(request):
        response: HttpResponse = JsonResponse(limited.as_dict(), status=429)
    else:
        html = render_to_string("400.html", {"message": limited.message, "status": 429})
        response = HttpResponse(html, status=429)
    response["Retry-After"] = str(limited.retry_after)
    return response


class InputGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            check_request(request)
        except BadInput as error:
            return refusal(request, error)
        except RateLimited as limited:
            return limited_response(request, limited)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DataError):
            return refusal(
                request,
                BadInput(
                    "non_field_errors",
                    "A value is too long or out of range for its field.",
                    code="out_of_range",
                ),
            )
        return None
