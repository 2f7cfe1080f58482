"""The signed-in user's home: what needs that person next, gathered from every app."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portal.home import home_tasks


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"tasks": home_tasks(request.user)})  # type: ignore[arg-type]
