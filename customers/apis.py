from typing import Any

from django_filters import rest_framework as filters
from rest_framework import mixins

from core.api import ScopedViewSet
from customers.models import Customer
from customers.selectors import customers_visible_to
from customers.serializers import CustomerSerializer


class CustomerFilter(filters.FilterSet):
    q = filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Customer
        fields = ["category", "segment", "country", "company"]


class CustomerViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ScopedViewSet,
):
    """Customer organisations. Program managers create and edit; field reps, reviewers
    and program managers read all; a customer contact reads its own organisation."""

    serializer_class = CustomerSerializer
    lookup_field = "tpid"
    lookup_value_regex = r"[^/]+"
    filterset_class = CustomerFilter
    search_fields = ["tpid", "name", "company"]
    ordering_fields = ["tpid", "name", "country"]
    scope_map = {
        "GET": "customers:read",
        "POST": "customers:write",
        "PUT": "customers:write",
        "PATCH": "customers:write",
    }

    def selector(self, user: Any) -> Any:
        return customers_visible_to(user)
