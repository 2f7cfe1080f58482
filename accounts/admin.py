from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from accounts.models import User
from core.admin_site import ScopePermissionsMixin


@admin.register(User)
class UserAdmin(ScopePermissionsMixin, BaseUserAdmin):  # type: ignore[type-arg]
    scope = "users:write"

    list_display = ["username", "email", "role", "customer", "partner", "is_active"]
    list_filter = ["role", "is_active"]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Portal role", {"fields": ("role", "customer", "partner")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "email",
                    "role",
                    "customer",
                    "partner",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Only a superuser grants superuser or staff rights.
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        return (
            "is_superuser",
            "is_staff",
            "groups",
            "user_permissions",
            "last_login",
            "date_joined",
        )
