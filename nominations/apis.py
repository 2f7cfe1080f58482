from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import ScopedViewSet
from core.errors import ApplicationError
from core.scopes import acting_user
from customers.models import Customer
from customers.selectors import customers_visible_to
from nominations.models import Nomination
from nominations.rules import Evaluation
from nominations.selectors import nominations_visible_to
from nominations.serializers import (
    CheckResultSerializer,
    CloseDealSerializer,
    NominationInputSerializer,
    NominationSerializer,
    NominationUpdateSerializer,
    RejectSerializer,
    WithdrawSerializer,
)
from nominations.services import (
    nomination_approve,
    nomination_check,
    nomination_close_deal,
    nomination_create,
    nomination_reject,
    nomination_update,
    nomination_withdraw,
)
from programs.models import Program
from vouchers.serializers import VoucherSerializer


def resolve_program_customer(user: Any, data: dict[str, Any]) -> tuple[Program, Customer]:
    program = Program.objects.filter(code=data["program"]).first()
    customer = customers_visible_to(user).filter(tpid=data["customer"]).first()
    fields = {}
    if program is None:
        fields["program"] = [f"No program with code {data['program']!r}."]
    if customer is None:
        fields["customer"] = [f"No customer with TPID {data['customer']!r}."]
    if fields:
        raise ApplicationError("Check the program and customer.", fields=fields)
    assert program is not None and customer is not None
    return program, customer


def evaluation_data(evaluation: Evaluation) -> dict[str, Any]:
    return {
        "eligible": evaluation.ok,
        "violations": [v.as_dict() for v in evaluation.violations],
        "cap": evaluation.cap.cap if evaluation.cap else None,
        "cap_row": evaluation.cap.row_label if evaluation.cap else None,
        "cap_reason": evaluation.cap.reason if evaluation.cap else None,
        "suggested_value": evaluation.suggested_value,
        "scheme": evaluation.scheme,
    }


class NominationFilter(filters.FilterSet):
    program = filters.CharFilter(field_name="program__code")
    customer = filters.CharFilter(field_name="customer__tpid")
    offer = filters.CharFilter(field_name="offer__code")

    class Meta:
        model = Nomination
        fields = ["status", "program", "customer", "offer"]


class NominationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Field reps nominate; program managers approve, reject and record the closed deal."""

    serializer_class = NominationSerializer
    filterset_class = NominationFilter
    search_fields = ["customer__name", "customer__tpid", "nominated_by__username"]
    ordering_fields = ["created_at", "expected_close_date", "deal_value", "status"]
    scope_map = {
        "GET": "nominations:read",
        "POST": "nominations:write",
        "PATCH": "nominations:write",
    }
    action_scopes = {
        "approve": "nominations:decide",
        "reject": "nominations:decide",
        "close_deal": "nominations:decide",
        "check": "nominations:write",
        "withdraw": "nominations:write",
    }

    def selector(self, user: Any) -> QuerySet[Nomination]:
        return nominations_visible_to(user).select_related("voucher")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "with_events": self.action != "list"}

    @extend_schema(request=NominationInputSerializer, responses={201: NominationSerializer})
    def create(self, request: Request) -> Response:
        """Rules R-ELIG-*, R-OFFER-*, R-WL-* and R-CAP-* are checked; every failure is listed."""
        data = self._input(request)
        program, customer = resolve_program_customer(acting_user(request), data)
        nomination = nomination_create(
            user=acting_user(request),
            program=program,
            customer=customer,
            **{k: v for k, v in data.items() if k not in ("program", "customer")},
        )
        return Response(self.get_serializer(nomination).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=NominationUpdateSerializer, responses={200: NominationSerializer})
    def partial_update(self, request: Request, pk: str) -> Response:
        """The nominating field rep changes a nomination awaiting approval; the result is
        checked as a new nomination is (R-ELIG-*, R-OFFER-*, R-WL-*, R-CAP-*). 409 once a
        program manager decided (R-ELIG-9)."""
        nomination = self.get_object()
        body = NominationUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        fixed = {"program": nomination.program.code, "customer": nomination.customer.tpid}
        wrong = {
            name: [
                f"A nomination's {name} cannot be changed; withdraw it and nominate again "
                "(R-ELIG-9)."
            ]
            for name, current in fixed.items()
            if data.pop(name, current) != current
        }
        if wrong:
            raise ApplicationError(
                "The program and the customer of a nomination cannot be changed.",
                fields=wrong,
                code="unchangeable",
            )
        nomination = nomination_update(
            nomination_id=nomination.pk, user=acting_user(request), **data
        )
        return Response(self.get_serializer(nomination).data)

    @extend_schema(request=WithdrawSerializer, responses={200: NominationSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str) -> Response:
        """The nominating field rep withdraws a nomination not yet decided, with a reason;
        the customer may then be nominated again (R-ELIG-9, R-OFFER-1)."""
        nomination = self.get_object()
        body = WithdrawSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        nomination = nomination_withdraw(
            nomination_id=nomination.pk,
            user=acting_user(request),
            reason=body.validated_data["reason"],
        )
        return Response(self.get_serializer(nomination).data)

    @extend_schema(request=NominationInputSerializer, responses={200: CheckResultSerializer})
    @action(detail=False, methods=["post"])
    def check(self, request: Request) -> Response:
        """Eligibility, cap and suggested value of a nomination, without saving it."""
        data = self._input(request)
        program, customer = resolve_program_customer(acting_user(request), data)
        data.pop("notes", None)
        evaluation = nomination_check(
            program=program,
            customer=customer,
            **{k: v for k, v in data.items() if k not in ("program", "customer")},
        )
        return Response(CheckResultSerializer(evaluation_data(evaluation)).data)

    @extend_schema(request=None, responses={200: NominationSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        nomination = self.get_object()
        nomination = nomination_approve(nomination_id=nomination.pk, user=acting_user(request))
        return Response(self.get_serializer(nomination).data)

    @extend_schema(request=RejectSerializer, responses={200: NominationSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        nomination = self.get_object()
        body = RejectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        nomination = nomination_reject(
            nomination_id=nomination.pk,
            user=acting_user(request),
            reason=body.validated_data["reason"],
        )
        return Response(self.get_serializer(nomination).data)

    @extend_schema(request=CloseDealSerializer, responses={201: VoucherSerializer})
    @action(detail=True, methods=["post"], url_path="close-deal")
    def close_deal(self, request: Request, pk: str) -> Response:
        """Records the closed deal and issues the voucher today (R-VOU-1, R-CAP-*)."""
        nomination = self.get_object()
        body = CloseDealSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        voucher = nomination_close_deal(
            nomination_id=nomination.pk,
            user=acting_user(request),
            **body.validated_data,
        )
        return Response(
            VoucherSerializer(voucher, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    def _input(self, request: Request) -> dict[str, Any]:
        body = NominationInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return dict(body.validated_data)
