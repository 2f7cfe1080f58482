from rest_framework.routers import SimpleRouter

from nominations.apis import NominationViewSet

router = SimpleRouter()
router.register("nominations", NominationViewSet, basename="nomination")
urlpatterns = router.urls
