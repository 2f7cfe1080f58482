from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults

from core.home import home_tasks


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"tasks": home_tasks(request.user)})  # type: ignore[arg-type]


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness and database reachability for load balancers and compose healthchecks."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "database unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A URL no route matches: the API's JSON error body under /api/, the page elsewhere."""
    if _is_api(request):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        body = {"detail": "The server could not complete the request.", "code": "server_error"}
        return JsonResponse(body, status=500)
    return defaults.server_error(request)
