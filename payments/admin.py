from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.admin_site import ScopedModelAdmin
from payments.models import FxRate


@admin.register(FxRate)
class FxRateAdmin(ScopedModelAdmin):
    list_display = ["currency", "rate_per_usd", "valid_from", "created_by", "created_at"]
    list_filter = ["currency"]
    readonly_fields = ["created_by", "created_at"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
