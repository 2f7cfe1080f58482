from __future__ import annotations

from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

CONSTANT = {"code": "BENCH", "status": "issued", "value": "10000.00"}


class ConstantView(APIView):
    """The api_ratio baseline: DRF with the same middleware and renderer, and nothing
    else (no authentication, no query)."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response(CONSTANT)
