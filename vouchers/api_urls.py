from django.urls import path
from rest_framework.routers import SimpleRouter

from vouchers.views import VoucherViewSet

router = SimpleRouter()
router.register("vouchers", VoucherViewSet, basename="voucher")
urlpatterns = [
    # api.md names the file without a trailing slash.
    path(
        "vouchers/<str:code>/voucher.pdf",
        VoucherViewSet.as_view({"get": "pdf"}),
        name="voucher-pdf",
    ),
    *router.urls,
]
