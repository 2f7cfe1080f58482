"""The portal's URLs plus the bench-only baseline endpoint (config.settings.bench only)."""

from django.urls import path

from bench.apis import ConstantView
from config.urls import urlpatterns as portal

urlpatterns = [*portal, path("bench/constant/", ConstantView.as_view(), name="bench-constant")]
