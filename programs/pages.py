from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from core.scopes import has_scope
from programs.selectors import programs_with_data


@login_required
def program_detail(request: HttpRequest, code: str) -> HttpResponse:
    """Program data as a program manager reads it, superseded cap rows included."""
    if not has_scope(request.user, "programs:write"):  # type: ignore[arg-type]
        raise Http404
    program = get_object_or_404(programs_with_data(), code=code)
    return render(request, "programs/detail.html", {"program": program})
