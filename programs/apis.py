from typing import Any

from rest_framework import mixins

from core.api import ScopedViewSet
from programs.selectors import programs_with_data
from programs.serializers import ProgramSerializer


class ProgramViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Programs and all their data; the FY24 program has code `FY24-MWSDO`."""

    serializer_class = ProgramSerializer
    lookup_field = "code"
    lookup_value_regex = r"[^/]+"
    scope_map = {"GET": "programs:read"}
    pagination_class = None

    def selector(self, user: Any) -> Any:
        return programs_with_data().order_by("-window_start")
