from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.admin_site import ScopedModelAdmin
from notifications.models import OutboundMail


@admin.register(OutboundMail)
class OutboundMailAdmin(ScopedModelAdmin):
    """Read-only: the outbox is a record of what was sent."""

    list_display = ["created_at", "kind", "subject", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind"]
    search_fields = ["subject", "related_object"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
