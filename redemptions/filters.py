"""The query filters of the payment request list and the review queue (API and pages)."""

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from redemptions.models import PaymentRequest


class RequestFilter(filters.FilterSet):
    voucher = filters.CharFilter(field_name="voucher__code")
    decided_by = filters.CharFilter(
        method="filter_decided_by",
        help_text="`me` for the requests the caller decided (a reviewer's history), or a user ID.",
    )
    submitted_after = filters.DateFilter(
        field_name="submitted_at",
        lookup_expr="date__gte",
        help_text="Submitted on or after this date.",
    )

    class Meta:
        model = PaymentRequest
        fields = ["status", "kind", "voucher", "decided_by", "submitted_after"]

    @extend_schema_field({"type": "string", "pattern": "^(me|[0-9]{1,9})$"})
    def filter_decided_by(
        self, queryset: QuerySet[PaymentRequest], name: str, value: str
    ) -> QuerySet[PaymentRequest]:
        if value == "me":
            return queryset.filter(decided_by_id=self.request.user.pk)
        if not value.isascii() or not value.isdigit() or len(value) > 9:
            raise ValidationError({"decided_by": ["Use me or a user ID."]})
        return queryset.filter(decided_by_id=int(value))


class ReviewQueueFilter(filters.FilterSet):
    offer = filters.CharFilter(field_name="voucher__offer__code")
    segment = filters.CharFilter(field_name="voucher__customer__segment")
    country = filters.CharFilter(field_name="voucher__customer__country")
    partner = filters.CharFilter(field_name="voucher__partner__partner_id")

    class Meta:
        model = PaymentRequest
        fields = ["kind", "status", "offer", "segment", "country", "partner"]
