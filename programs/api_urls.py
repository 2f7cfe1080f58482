from rest_framework.routers import SimpleRouter

from programs.apis import ProgramViewSet

router = SimpleRouter()
router.register("programs", ProgramViewSet, basename="program")
urlpatterns = router.urls
