from rest_framework.routers import SimpleRouter

from payments.views import FxRateViewSet

router = SimpleRouter()
router.register("fx-rates", FxRateViewSet, basename="fx-rate")
urlpatterns = router.urls
