from rest_framework.routers import SimpleRouter

from nominations.views import NominationViewSet

router = SimpleRouter()
router.register("nominations", NominationViewSet, basename="nomination")
urlpatterns = router.urls
