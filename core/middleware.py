"""Under /api/ a client always gets the API's JSON error body, even where Django answers
with a page of its own: the DEBUG 404 page of `make run` (production uses
core.handlers.not_found, which DEBUG bypasses)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from core.handlers import NOT_FOUND, is_api


class ApiNotFoundMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 404
            and is_api(request)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return JsonResponse(NOT_FOUND, status=404)
        return response


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every answer the portal draws for a person or a client
    (pages, API answers, PDFs, CSV exports), unless the view chose its own caching: they
    carry a user's data, and a shared or browser cache must not keep them. Static files
    are answered by WhiteNoise, earlier in the chain, with their own long caching."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response
