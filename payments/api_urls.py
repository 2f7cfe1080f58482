from django.urls import re_path
from rest_framework.routers import SimpleRouter

from payments.apis import (
    BatchViewSet,
    DisputeViewSet,
    FxRateViewSet,
    PaymentViewSet,
    StatementView,
)

router = SimpleRouter()
router.register("fx-rates", FxRateViewSet, basename="fx-rate")
router.register("payments", PaymentViewSet, basename="payment")
router.register("payment-batches", BatchViewSet, basename="payment-batch")
router.register("disputes", DisputeViewSet, basename="dispute")
urlpatterns = [
    re_path(
        r"^statements/(?P<period>\d{4}-\d{2})\.(?P<fmt>pdf|csv)$",
        StatementView.as_view(),
        name="statement",
    ),
    *router.urls,
]
