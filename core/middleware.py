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
