from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import ScopedViewSet
from core.errors import StateConflict
from core.scopes import acting_user
from redemptions.filters import RequestFilter, ReviewQueueFilter
from redemptions.models import PaymentRequest
from redemptions.selectors import documents_without_crops, requests_visible_to, review_queue
from redemptions.serializers import (
    ApproveSerializer,
    PaymentRequestSerializer,
    QuestionSerializer,
    RejectReasonSerializer,
    RequestAmendSerializer,
    RequestSubmitSerializer,
)
from redemptions.services import (
    request_amend,
    request_approve,
    request_ask,
    request_reject,
    request_release,
    request_submit,
    request_take,
)
from redemptions.template_pdfs import render_template_pdf
from vouchers.expiry import refuse_if_expired
from vouchers.models import Voucher
from vouchers.selectors import voucher_for, vouchers_visible_to


class PaymentRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Payment requests, scoped to the caller: a partner its own, staff all."""

    serializer_class = PaymentRequestSerializer
    filterset_class = RequestFilter
    search_fields = [
        "voucher__code",
        "voucher__customer__name",
        "voucher__customer__tpid",
        "voucher__partner__name",
        "voucher__partner__partner_id",
    ]
    ordering_fields = ["submitted_at", "due_by", "decided_at", "status", "kind", "payout_amount"]
    scope_map = {"GET": "requests:read"}
    action_scopes = {
        "amend": "requests:submit",
        "document": "requests:read",
        "approve": "requests:review",
        "reject": "requests:review",
        "request_info": "requests:review",
        "take": "requests:review",
        "release": "requests:review",
    }

    def selector(self, user: Any) -> QuerySet[PaymentRequest]:
        return requests_visible_to(user).prefetch_related(documents_without_crops())

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "with_events": self.action != "list"}

    @extend_schema(
        request={"multipart/form-data": RequestAmendSerializer},
        responses={200: PaymentRequestSerializer},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def amend(self, request: Request, pk: str) -> Response:
        """Partner, after an information request: an answer, a new document and/or fields."""
        payment_request = self.get_object()
        body = RequestAmendSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        upload = data.pop("document", None)
        payment_request = request_amend(
            request_id=payment_request.pk, user=acting_user(request), upload=upload, **data
        )
        return Response(self.get_serializer(payment_request).data)

    @extend_schema(
        responses={(200, "application/pdf"): OpenApiResponse(response=OpenApiTypes.BINARY)}
    )
    def document(self, request: Request, pk: str, version: str) -> FileResponse:
        """The uploaded PDF as stored, as an attachment with a server-chosen name."""
        payment_request = self.get_object()
        document = payment_request.documents.filter(version=version).first()
        if document is None:
            raise Http404
        return FileResponse(
            document.file.open("rb"),
            as_attachment=True,
            filename=document.download_name(),
            content_type="application/pdf",
        )

    @extend_schema(request=None, responses={200: PaymentRequestSerializer})
    @action(detail=True, methods=["post"])
    def take(self, request: Request, pk: str) -> Response:
        """Reviewer: work on this request so no other reviewer does."""
        obj = request_take(request_id=self.get_object().pk, user=acting_user(request))
        return Response(self.get_serializer(obj).data)

    @extend_schema(request=None, responses={200: PaymentRequestSerializer})
    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: str) -> Response:
        obj = request_release(request_id=self.get_object().pk, user=acting_user(request))
        return Response(self.get_serializer(obj).data)

    @extend_schema(request=ApproveSerializer, responses={200: PaymentRequestSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        """Reviewer: approve; the payment is created once, in the partner's currency. A
        scanned document needs `signatures_checked: true` (R-DOC-1)."""
        body = ApproveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        obj = request_approve(
            request_id=self.get_object().pk,
            user=acting_user(request),
            signatures_checked=body.validated_data["signatures_checked"],
        )
        return Response(self.get_serializer(obj).data)

    @extend_schema(request=RejectReasonSerializer, responses={200: PaymentRequestSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        """Reviewer: reject with a reason (required)."""
        body = RejectReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        obj = request_reject(
            request_id=self.get_object().pk,
            user=acting_user(request),
            reason=body.validated_data["reason"],
        )
        return Response(self.get_serializer(obj).data)

    @extend_schema(request=QuestionSerializer, responses={200: PaymentRequestSerializer})
    @action(detail=True, methods=["post"], url_path="request-info")
    def request_info(self, request: Request, pk: str) -> Response:
        """Reviewer: ask the partner for more information (question required)."""
        body = QuestionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        obj = request_ask(
            request_id=self.get_object().pk,
            user=acting_user(request),
            question=body.validated_data["question"],
        )
        return Response(self.get_serializer(obj).data)


class ReviewQueueViewSet(mixins.ListModelMixin, ScopedViewSet):
    """Reviewer: open requests, the oldest `due_by` first."""

    serializer_class = PaymentRequestSerializer
    filterset_class = ReviewQueueFilter
    search_fields = [
        "voucher__code",
        "voucher__customer__name",
        "voucher__customer__tpid",
        "voucher__partner__name",
        "voucher__partner__partner_id",
    ]
    ordering_fields = ["due_by", "submitted_at", "kind"]
    scope_map = {"GET": "requests:review"}

    def selector(self, user: Any) -> QuerySet[PaymentRequest]:
        return review_queue(user)


class VoucherRedemptionViewSet(ScopedViewSet):
    """A claimed voucher's redemption: its SOW/POE templates and its payment requests, under
    the voucher's URL (`/vouchers/{code}/...`). Another organisation's voucher answers 404
    like a missing one."""

    lookup_field = "code"
    lookup_value_regex = r"[^/]+"
    scope_map = {"GET": "vouchers:read"}
    action_scopes = {"submit_request": "requests:submit", "template": "vouchers:templates"}

    def selector(self, user: Any) -> QuerySet[Voucher]:
        return vouchers_visible_to(user)

    def get_object(self) -> Voucher:
        return voucher_for(acting_user(self.request), self.kwargs["code"])

    @extend_schema(
        request={"multipart/form-data": RequestSubmitSerializer},
        responses={201: PaymentRequestSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="requests",
        parser_classes=[MultiPartParser, FormParser],
    )
    def submit_request(self, request: Request, code: str) -> Response:
        """Partner: `initial` with the signed SOW and its value, `final` with the signed POE
        (R-RED-1, R-RED-3, R-PUB-*). Refusals name their rule; nothing is stored."""
        voucher = self.get_object()
        body = RequestSubmitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        upload = data.pop("document")
        payment_request = request_submit(
            voucher_id=voucher.pk, user=acting_user(request), upload=upload, **data
        )
        return Response(
            PaymentRequestSerializer(payment_request, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        responses={(200, "application/pdf"): OpenApiResponse(response=OpenApiTypes.BINARY)}
    )
    def template(self, request: Request, code: str, kind: str) -> HttpResponse:
        """Claiming partner: the pre-filled SOW or POE template (R-DOC-1); none once the
        voucher expired, as no request can be submitted with it (R-VOU-2)."""
        voucher = self.get_object()
        refuse_if_expired(voucher, "no request can be submitted with its templates any more.")
        if voucher.partner_id is None or voucher.partner_id != acting_user(request).partner_id:
            raise StateConflict(
                "Claim the voucher to download its templates.", rule="R-VOU-5", code="not_claimed"
            )
        pdf = render_template_pdf(voucher=voucher, kind=kind)
        response = HttpResponse(pdf, content_type="application/pdf")
        name = f"{kind.upper()}-template-{voucher.code}.pdf"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
