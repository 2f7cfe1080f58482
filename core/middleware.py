"""Under /api/ a client always gets the API's JSON error body, even where Django answers
with a page of its own: the DEBUG 404 page of `make run` (production uses
core.handlers.not_found, which DEBUG bypasses)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import resolve_url
from django.views import defaults

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


class KeptFormMiddleware:
    """Answers for pages' scripts that send a form without leaving the page
    (static/js/keepform.js), so that a refusal never drops the file someone chose and an
    expired session never drops what they typed:
    - a form sent with `X-Keep-Form` that succeeds gets 204 with `X-Location` (where the
      browser then goes) instead of a redirect the script would follow unseen;
    - an htmx or `X-Keep-Form` request whose session expired gets 401 instead of the
      sign-in page, which would otherwise be drawn inside the form."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        scripted = request.headers.get("X-Keep-Form") == "1"
        if not (scripted or request.headers.get("HX-Request") == "true"):
            return response
        if response.status_code not in (301, 302, 303):
            return response
        location = response["Location"]
        # The answer is rewritten in place, keeping its cookies: the session and the
        # flash message the next page shows travel on it.
        del response["Location"]
        response.content = b""
        if location.startswith(resolve_url(settings.LOGIN_URL)):
            response.status_code = 401
            response["HX-Trigger"] = "session-expired"
            response["HX-Reswap"] = "none"
            return response
        if scripted:
            response.status_code = 204
            response["X-Location"] = location
            return response
        response.status_code, response["Location"] = 302, location
        return response


class ProductNotFoundMiddleware:
    """`make run` keeps DEBUG for tracebacks, but a 404 there is the product's own page,
    as in production: Django's DEBUG page would list every URL pattern to anyone who
    opens another organisation's voucher. Add `?debug404=1` to see Django's page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 404 or is_api(request) or "debug404" in request.GET:
            return response
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        return defaults.page_not_found(request, Http404())
