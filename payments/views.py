from rest_framework import mixins
from rest_framework.serializers import BaseSerializer

from core.api import ScopedViewSet
from payments.models import FxRate
from payments.serializers import FxRateSerializer


class FxRateViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    """Program FX rates: local currency per USD from `valid_from` (R-PAY-1)."""

    serializer_class = FxRateSerializer
    scope_map = {"GET": "fx:read", "POST": "fx:write"}
    filterset_fields = ["currency", "valid_from"]

    def selector(self, user):
        return FxRate.objects.all()

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.save(created_by=self.request.user)
