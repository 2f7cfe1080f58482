from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

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
