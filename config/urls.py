from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core import handlers
from portal import pages as portal_pages

api_v1: list[URLPattern | URLResolver] = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("", include("accounts.api_urls")),
    path("", include("programs.api_urls")),
    path("", include("customers.api_urls")),
    path("", include("partners.api_urls")),
    path("", include("payments.api_urls")),
    path("", include("nominations.api_urls")),
    path("", include("vouchers.api_urls")),
    path("", include("redemptions.api_urls")),
]

urlpatterns = [
    path("", portal_pages.home, name="home"),
    path("healthz", handlers.healthz, name="healthz"),
    path("", include("accounts.urls")),
    path("", include("notifications.urls")),
    path("", include("programs.urls")),
    path("", include("customers.urls")),
    path("", include("nominations.urls")),
    path("", include("redemptions.urls")),
    path("", include("payments.urls")),
    path("", include("reports.urls")),
    path("", include("imports.urls")),
    path("", include("vouchers.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"))),
]

handler404 = "core.handlers.not_found"
handler500 = "core.handlers.server_error"
