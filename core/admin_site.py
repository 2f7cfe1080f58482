from typing import Any

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from core.scopes import has_scope


class PortalAdminSite(admin.AdminSite):
    """The admin is the program managers' console: access follows the role's scopes,
    not Django's per-model permission rows."""

    site_header = "Deployment Voucher Portal: program administration"
    site_title = "Voucher Portal admin"
    index_title = "Program data and organisations"

    def has_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and has_scope(request.user, "programs:write"))

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """The admin signs in through the portal's own login page."""
        target = request.GET.get("next") or reverse("admin:index")
        return redirect_to_login(target, reverse("login"))


class ScopePermissionsMixin:
    """View, add and change follow one scope; deleting is opt-in (`allow_delete`)."""

    scope = "programs:write"
    allow_delete = False

    def _allowed(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and has_scope(request.user, self.scope))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.allow_delete and self._allowed(request)


class ScopedModelAdmin(ScopePermissionsMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    pass


class ScopedInline(ScopePermissionsMixin, admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    allow_delete = True
