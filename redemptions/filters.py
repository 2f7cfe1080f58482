"""The query filters of the payment request list and the review queue (API and pages)."""

from django_filters import rest_framework as filters

from redemptions.models import PaymentRequest


class RequestFilter(filters.FilterSet):
    voucher = filters.CharFilter(field_name="voucher__code")

    class Meta:
        model = PaymentRequest
        fields = ["status", "kind", "voucher"]


class ReviewQueueFilter(filters.FilterSet):
    offer = filters.CharFilter(field_name="voucher__offer__code")
    segment = filters.CharFilter(field_name="voucher__customer__segment")
    country = filters.CharFilter(field_name="voucher__customer__country")
    partner = filters.CharFilter(field_name="voucher__partner__partner_id")

    class Meta:
        model = PaymentRequest
        fields = ["kind", "status", "offer", "segment", "country", "partner"]
