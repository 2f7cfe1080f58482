from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from core.api import ScopedViewSet
from core.errors import ApplicationError
from core.permissions import HasScope
from core.schema import ErrorSerializer
from core.scopes import acting_user
from partners.models import Partner
from payments.models import Dispute, FxRate, Payment, PaymentBatch
from payments.pdf import render_statement_pdf
from payments.selectors import disputes_visible_to, payments_visible_to
from payments.serializers import (
    BatchConfirmSerializer,
    BatchSerializer,
    DisputeOpenSerializer,
    DisputeResolveSerializer,
    DisputeSerializer,
    FxRateSerializer,
    PaymentSerializer,
)
from payments.services import (
    PERIOD_PATTERN,
    batch_confirm,
    batch_csv,
    batch_export,
    dispute_open,
    dispute_resolve,
    statement_csv,
    statement_for,
)


class FxRateViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    """Program FX rates: local currency per USD from `valid_from` (R-PAY-1)."""

    serializer_class = FxRateSerializer
    scope_map = {"GET": "fx:read", "POST": "fx:write"}
    filterset_fields = ["currency", "valid_from"]

    def selector(self, user: Any) -> Any:
        return FxRate.objects.all()

    def perform_create(self, serializer: BaseSerializer[Any]) -> None:
        serializer.save(created_by=self.request.user)


class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Payments, scoped: a partner its own. A row exists from the moment its request is approved."""

    serializer_class = PaymentSerializer
    search_fields = [
        "voucher__code",
        "voucher__customer__name",
        "partner__name",
        "partner__partner_id",
        "batch__reference",
    ]
    ordering_fields = ["approved_on", "amount_usd", "amount_local", "status", "expected_on"]
    scope_map = {"GET": "payments:read"}
    filterset_fields = ["status", "kind", "currency"]

    def selector(self, user: Any) -> QuerySet[Payment]:
        return payments_visible_to(user)


def _partner_for_statement(request: Request) -> Partner:
    user = acting_user(request)
    if user.partner is not None:
        return user.partner
    partner_id = request.query_params.get("partner", "")
    if not partner_id:
        raise ApplicationError(
            "Name the partner with ?partner=<partner_id>.",
            fields={"partner": ["Required."]},
            code="partner_required",
        )
    partner = Partner.objects.filter(partner_id=partner_id).first()
    if partner is None:
        raise NotFound("No partner with this ID.")
    return partner


class StatementView(APIView):
    """A partner's FastTrack statement for a month, as PDF or CSV (R-PAY-3). Program
    managers and reviewers name the partner with `?partner=`."""

    permission_classes = [HasScope]
    scope_map = {"GET": "statements:read"}

    @extend_schema(
        parameters=[
            OpenApiParameter("period", str, OpenApiParameter.PATH, pattern=PERIOD_PATTERN),
            OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=["pdf", "csv"]),
            OpenApiParameter(
                "partner",
                str,
                description="Partner ID; required for program managers and reviewers, "
                "ignored for partners (400 `partner_required` when missing).",
            ),
        ],
        responses={
            (200, "application/pdf"): OpenApiResponse(response=OpenApiTypes.BINARY),
            (200, "text/csv"): OpenApiResponse(response=OpenApiTypes.STR),
            400: OpenApiResponse(response=ErrorSerializer, description="Bad period or partner."),
        },
    )
    def get(self, request: Request, period: str, fmt: str) -> HttpResponse:
        statement = statement_for(partner=_partner_for_statement(request), period=period)
        name = f"FastTrack-statement-{statement.partner.partner_id}-{period}.{fmt}"
        if fmt == "csv":
            response = HttpResponse(
                statement_csv(statement), content_type="text/csv; charset=utf-8"
            )
        else:
            response = HttpResponse(render_statement_pdf(statement), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class BatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Program manager: export pending payments for Payment Central and confirm them
    paid (R-PAY-2)."""

    serializer_class = BatchSerializer
    search_fields = ["reference"]
    ordering_fields = ["created_at", "confirmed_at", "status"]
    scope_map = {"GET": "payments:manage", "POST": "payments:manage"}

    def selector(self, user: Any) -> QuerySet[PaymentBatch]:
        return PaymentBatch.objects.all()

    @extend_schema(
        request=None, responses={(201, "text/csv"): OpenApiResponse(response=OpenApiTypes.STR)}
    )
    def create(self, request: Request) -> HttpResponse:
        batch, text = batch_export(user=acting_user(request))
        response = HttpResponse(text, content_type="text/csv; charset=utf-8", status=201)
        response["Content-Disposition"] = f'attachment; filename="payment-batch-{batch.pk}.csv"'
        return response

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(response=OpenApiTypes.STR)})
    @action(detail=True, methods=["get"], url_path="csv")
    def csv(self, request: Request, pk: str) -> HttpResponse:
        batch = self.get_object()
        response = HttpResponse(batch_csv(batch), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="payment-batch-{batch.pk}.csv"'
        return response

    @extend_schema(request=BatchConfirmSerializer, responses={200: BatchSerializer})
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str) -> Response:
        """Payment Central paid the batch: `reference` is its payment run's reference."""
        body = BatchConfirmSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        batch = batch_confirm(
            batch_id=self.get_object().pk,
            user=acting_user(request),
            reference=body.validated_data["reference"],
        )
        return Response(self.get_serializer(batch).data)


class DisputeViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    """Partners dispute a decision or payment; reviewers work the dispute queue (R-PAY-5)."""

    serializer_class = DisputeSerializer
    search_fields = ["request__voucher__code", "partner__name", "partner__partner_id", "text"]
    ordering_fields = ["opened_at", "resolved_at", "status"]
    scope_map = {"GET": "disputes:read", "POST": "disputes:open"}
    action_scopes = {"resolve": "disputes:resolve"}
    filterset_fields = ["status"]

    def selector(self, user: Any) -> QuerySet[Dispute]:
        return disputes_visible_to(user)

    @extend_schema(
        request=DisputeOpenSerializer,
        responses={
            201: DisputeSerializer,
            404: OpenApiResponse(
                response=ErrorSerializer, description="No such request of your organisation."
            ),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = DisputeOpenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        dispute = dispute_open(
            user=acting_user(request),
            request_id=body.validated_data["request"],
            text=body.validated_data["text"],
        )
        return Response(self.get_serializer(dispute).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DisputeResolveSerializer, responses={200: DisputeSerializer})
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str) -> Response:
        body = DisputeResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        dispute = dispute_resolve(
            dispute_id=self.get_object().pk, user=acting_user(request), **body.validated_data
        )
        return Response(self.get_serializer(dispute).data)
