from typing import Any

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import ScopedViewSet
from core.scopes import acting_user
from customers.models import Customer
from customers.selectors import customers_visible_to
from customers.serializers import CustomerSerializer
from customers.services import customer_create, customer_verify


class CustomerFilter(filters.FilterSet):
    q = filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Customer
        fields = ["category", "segment", "country", "company", "verification"]


class CustomerViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    ScopedViewSet,
):
    """Customer organisations. Program managers create, edit and verify; a field rep adds
    a customer not yet in the portal, unverified until a program manager verifies it
    (R-ELIG-8). Field reps see the verified customers and their own unverified ones;
    reviewers and program managers read all; a customer contact reads its own
    organisation."""

    serializer_class = CustomerSerializer
    lookup_field = "tpid"
    lookup_value_regex = r"[^/]+"
    filterset_class = CustomerFilter
    search_fields = ["tpid", "name", "company"]
    ordering_fields = ["tpid", "name", "country"]
    scope_map = {
        "GET": "customers:read",
        "POST": "customers:add",
        "PUT": "customers:write",
        "PATCH": "customers:write",
    }
    action_scopes = {"verify": "customers:verify"}

    def selector(self, user: Any) -> Any:
        return customers_visible_to(user)

    @extend_schema(request=CustomerSerializer, responses={201: CustomerSerializer})
    def create(self, request: Request) -> Response:
        """A program manager's customer is verified; a field rep's is `unverified` until a
        program manager verifies it, and its nominations cannot be approved before
        (R-ELIG-8)."""
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        customer = customer_create(user=acting_user(request), **body.validated_data)
        return Response(self.get_serializer(customer).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: CustomerSerializer})
    @action(detail=True, methods=["post"])
    def verify(self, request: Request, tpid: str) -> Response:
        """A program manager verifies a customer a field rep added (R-ELIG-8); 409 when it
        is verified already."""
        customer = self.get_object()
        customer = customer_verify(tpid=customer.tpid, user=acting_user(request))
        return Response(self.get_serializer(customer).data)
