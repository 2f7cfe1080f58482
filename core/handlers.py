"""Views that belong to no app: the health check and the error handlers (404, 500, 503)."""

import sys

from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness and database reachability for load balancers and compose healthchecks."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "database unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


NOT_FOUND = {"detail": "Not found.", "code": "not_found"}


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A URL no route matches: the API's JSON error body under /api/, the page elsewhere."""
    if is_api(request):
        return JsonResponse(NOT_FOUND, status=404)
    return defaults.page_not_found(request, exception)


# How long a client should wait before retrying while the database is unreachable: about
# the time PostgreSQL takes to restart or fail over.
RETRY_AFTER_SECONDS = 5


def server_error(request: HttpRequest) -> HttpResponse:
    """An unhandled exception. A lost or refused database connection (a restart, a failover)
    is temporary and nothing was saved: 503 with Retry-After, so clients and load balancers
    retry instead of reporting a bug. The 503 page renders without the database."""
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        return _unavailable(request)
    if is_api(request):
        body = {"detail": "The server could not complete the request.", "code": "server_error"}
        return JsonResponse(body, status=500)
    return defaults.server_error(request)


def _unavailable(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        body = {
            "detail": "The database is briefly unavailable; nothing was saved. Try again.",
            "code": "service_unavailable",
        }
        response: HttpResponse = JsonResponse(body, status=503)
    else:
        # No request context: its processors would ask the database for the user.
        page = render_to_string(
            "503.html", {"retry_after": RETRY_AFTER_SECONDS, "reload": request.method == "GET"}
        )
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
