from django.urls import path
from rest_framework.routers import SimpleRouter

from redemptions.views import PaymentRequestViewSet, ReviewQueueViewSet

router = SimpleRouter()
router.register("requests", PaymentRequestViewSet, basename="request")
router.register("review-queue", ReviewQueueViewSet, basename="review-queue")
urlpatterns = [
    path(
        "requests/<int:pk>/documents/<int:version>.pdf",
        PaymentRequestViewSet.as_view({"get": "document"}),
        name="request-document",
    ),
    *router.urls,
]
