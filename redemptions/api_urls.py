from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from redemptions.apis import PaymentRequestViewSet, ReviewQueueViewSet, VoucherRedemptionViewSet

router = SimpleRouter()
router.register("requests", PaymentRequestViewSet, basename="request")
router.register("review-queue", ReviewQueueViewSet, basename="review-queue")
# Under the voucher's URL: POST vouchers/{code}/requests/ (voucher-submit-request).
router.register("vouchers", VoucherRedemptionViewSet, basename="voucher")
urlpatterns = [
    path(
        "requests/<int:pk>/documents/<int:version>.pdf",
        PaymentRequestViewSet.as_view({"get": "document"}),
        name="request-document",
    ),
    re_path(
        r"^vouchers/(?P<code>[^/]+)/templates/(?P<kind>sow|poe)\.pdf$",
        VoucherRedemptionViewSet.as_view({"get": "template"}),
        name="voucher-template",
    ),
    *router.urls,
]
