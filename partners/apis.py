from typing import Any

from django_filters import rest_framework as filters
from rest_framework import mixins

from core.api import ScopedViewSet
from partners.models import Partner
from partners.selectors import partners_visible_to
from partners.serializers import PartnerSerializer


class PartnerFilter(filters.FilterSet):
    q = filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Partner
        fields = ["frp_approved", "country", "currency", "company"]


class PartnerViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ScopedViewSet,
):
    """Partner organisations. Customers see the FastTrack Ready directory; a partner
    user sees its own organisation; program managers create and edit."""

    serializer_class = PartnerSerializer
    lookup_field = "partner_id"
    lookup_value_regex = r"[^/]+"
    filterset_class = PartnerFilter
    search_fields = ["partner_id", "name", "company"]
    ordering_fields = ["partner_id", "name", "country"]
    scope_map = {
        "GET": "partners:read",
        "POST": "partners:write",
        "PUT": "partners:write",
        "PATCH": "partners:write",
    }

    def selector(self, user: Any) -> Any:
        return partners_visible_to(user)
