from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import ScopedViewSet
from core.choices import Role
from core.ratelimit import rate_limit
from core.scopes import acting_user, effective_role
from vouchers.combined import combined_view
from vouchers.detail_sql import fast_detail_available, voucher_detail_json
from vouchers.extensions import extension_decide, extension_request
from vouchers.models import Extension, Voucher
from vouchers.pdf import render_voucher_pdf, voucher_pdf_filename
from vouchers.selectors import code_or_error, voucher_for, vouchers_visible_to
from vouchers.serializers import (
    CombinedPositionSerializer,
    DeclineSerializer,
    ExtensionDecisionSerializer,
    ExtensionSerializer,
    ForwardSerializer,
    VoucherSerializer,
)
from vouchers.services import voucher_claim, voucher_decline, voucher_forward


class VoucherFilter(filters.FilterSet):
    program = filters.CharFilter(field_name="program__code")
    offer = filters.CharFilter(field_name="offer__code")
    customer = filters.CharFilter(field_name="customer__tpid")
    expires_before = filters.DateFilter(field_name="expires_on", lookup_expr="lte")

    class Meta:
        model = Voucher
        fields = ["status", "program", "offer", "customer", "expires_before"]


# A voucher's payment requests and its SOW/POE templates are redemptions' endpoints under
# the same URL prefix (redemptions.apis.VoucherRedemptionViewSet).
class VoucherViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Vouchers by code. A mistyped code (wrong check character) answers 400
    `mistyped_code`; another organisation's voucher 404 like a missing one."""

    serializer_class = VoucherSerializer
    filterset_class = VoucherFilter
    search_fields = [
        "code",
        "customer__name",
        "customer__tpid",
        "partner__name",
        "partner__partner_id",
    ]
    ordering_fields = ["code", "value", "issued_on", "expires_on", "status", "paid_total"]
    lookup_field = "code"
    lookup_value_regex = r"[^/]+"
    scope_map = {"GET": "vouchers:read"}
    action_scopes = {
        "pdf": "vouchers:pdf",
        "forward": "vouchers:forward",
        "claim": "vouchers:claim",
        "decline": "vouchers:claim",
        "extension": "extensions:request",
        "combined_cap": "vouchers:read",
    }

    def selector(self, user: Any) -> QuerySet[Voucher]:
        return vouchers_visible_to(user, listing=self.action == "list")

    def get_object(self) -> Voucher:
        return voucher_for(acting_user(self.request), self.kwargs["code"])

    def retrieve(  # type: ignore[override]  # the PostgreSQL path sends JSON bytes
        self, request: Request, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        """One voucher with its history."""
        # On PostgreSQL one statement builds the document (vouchers/detail_sql.py);
        # elsewhere the serializer does.
        if not fast_detail_available():
            return super().retrieve(request, *args, **kwargs)
        code = code_or_error(kwargs["code"])
        body = voucher_detail_json(user=acting_user(request), code=code)
        if body is None:
            raise Http404("No such voucher.")
        return HttpResponse(body, content_type="application/json")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "with_events": self.action != "list"}

    @extend_schema(responses={200: CombinedPositionSerializer, 204: None})
    @action(detail=True, methods=["get"], url_path="combined-cap")
    def combined_cap(self, request: Request, code: str) -> Response:
        """R-CAP-4: the customer's combined payout position across its vouchers of
        different groups (the later deal date decides the row); 204 when no combined cap
        applies. A partner does not see another partner's voucher or payments."""
        voucher = self.get_object()
        user = acting_user(request)
        viewer = user.partner_id if effective_role(user) == Role.PARTNER else None
        data = combined_view(voucher, viewer_partner=viewer)
        if data is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(CombinedPositionSerializer(data).data)

    @extend_schema(
        responses={(200, "application/pdf"): OpenApiResponse(response=OpenApiTypes.BINARY)}
    )
    def pdf(self, request: Request, code: str) -> HttpResponse:
        """The voucher as PDF (customer, field rep, program manager)."""
        voucher = self.get_object()
        response = HttpResponse(render_voucher_pdf(voucher), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{voucher_pdf_filename(voucher)}"'
        return response

    @extend_schema(request=ForwardSerializer, responses={200: VoucherSerializer})
    @action(detail=True, methods=["post"])
    def forward(self, request: Request, code: str) -> Response:
        """Customer: send the voucher to a FastTrack Ready Partner, who is mailed (R-VOU-4)."""
        voucher = self.get_object()
        body = ForwardSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        voucher_forward(
            voucher_id=voucher.pk,
            user=acting_user(request),
            partner_id=body.validated_data["partner"],
            message=body.validated_data["message"],
        )
        voucher.refresh_from_db()
        return Response(self.get_serializer(voucher).data)

    @extend_schema(request=None, responses={200: VoucherSerializer})
    @action(detail=True, methods=["post"])
    def claim(self, request: Request, code: str) -> Response:
        """Partner: become the voucher's one redeeming partner (R-VOU-5, R-VOU-7). The code
        alone is enough; attempts are rate-limited per user and per address. A partner whose
        decline stands is refused (409 `already_declined`) until the customer forwards the
        voucher to it again."""
        rate_limit(scope="claim", request=request)
        voucher = voucher_claim(code=code_or_error(code), user=acting_user(request))
        return Response(self.get_serializer(voucher).data)

    @extend_schema(request=DeclineSerializer, responses={200: VoucherSerializer})
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, code: str) -> Response:
        """Partner: decline the engagement; the customer is told once and may forward
        elsewhere. A claimed voucher is released; a forwarded one answered. A second decline
        (already released, or the forward already answered) is 409 `already_declined`
        (R-VOU-5) and mails nothing, until the customer forwards the voucher again."""
        voucher = self.get_object()
        body = DeclineSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        voucher = voucher_decline(
            voucher_id=voucher.pk,
            user=acting_user(request),
            reason=body.validated_data["reason"],
        )
        return Response(self.get_serializer(voucher).data)

    @extend_schema(request=ExtensionSerializer, responses={201: ExtensionSerializer})
    @action(detail=True, methods=["post"])
    def extension(self, request: Request, code: str) -> Response:
        """Customer: ask once, before expiry and after the SOW was approved, for more
        time (R-VOU-9)."""
        voucher = self.get_object()
        body = ExtensionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        extension = extension_request(
            voucher_id=voucher.pk, user=acting_user(request), reason=body.validated_data["reason"]
        )
        return Response(ExtensionSerializer(extension).data, status=status.HTTP_201_CREATED)


class ExtensionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Reviewer: extension requests and their decisions (R-VOU-9)."""

    serializer_class = ExtensionSerializer
    search_fields = ["voucher__code", "voucher__customer__name", "voucher__customer__tpid"]
    ordering_fields = ["requested_at", "status", "days"]
    scope_map = {"GET": "extensions:decide", "POST": "extensions:decide"}
    filterset_fields = ["status"]

    def selector(self, user: Any) -> QuerySet[Extension]:
        return Extension.objects.select_related("voucher")

    @extend_schema(request=ExtensionDecisionSerializer, responses={200: ExtensionSerializer})
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str) -> Response:
        body = ExtensionDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        extension = extension_decide(
            extension_id=self.get_object().pk, user=acting_user(request), **body.validated_data
        )
        return Response(self.get_serializer(extension).data)
