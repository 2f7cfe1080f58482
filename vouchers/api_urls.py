from django.urls import path
from rest_framework.routers import SimpleRouter

from vouchers.apis import ExtensionViewSet, VoucherViewSet

router = SimpleRouter()
router.register("vouchers", VoucherViewSet, basename="voucher")
router.register("extensions", ExtensionViewSet, basename="extension")
urlpatterns = [
    # api.md names the file without a trailing slash.
    path(
        "vouchers/<str:code>/voucher.pdf",
        VoucherViewSet.as_view({"get": "pdf"}),
        name="voucher-pdf",
    ),
    *router.urls,
]
