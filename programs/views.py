from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from rest_framework import mixins

from core.api import ScopedViewSet
from core.scopes import has_scope
from programs.selectors import programs_with_data
from programs.serializers import ProgramSerializer


class ProgramViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Programs and all their data; the FY24 program has code `FY24-MWSDO`."""

    serializer_class = ProgramSerializer
    lookup_field = "code"
    lookup_value_regex = r"[^/]+"
    scope_map = {"GET": "programs:read"}
    pagination_class = None

    def selector(self, user):
        return programs_with_data().order_by("-window_start")


@login_required
def program_detail(request: HttpRequest, code: str) -> HttpResponse:
    """Program data as a program manager reads it, superseded cap rows included."""
    if not has_scope(request.user, "programs:write"):  # type: ignore[arg-type]
        raise Http404
    program = get_object_or_404(programs_with_data(), code=code)
    return render(request, "programs/detail.html", {"program": program})
