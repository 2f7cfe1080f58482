from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.admin_site import ScopedModelAdmin
from core.models import Event


@admin.register(Event)
class EventAdmin(ScopedModelAdmin):
    """The audit trail, readable and never editable (R-REV-2)."""

    list_display = ["at", "subject", "subject_id", "action", "from_state", "to_state", "actor"]
    list_filter = ["subject", "action"]
    search_fields = ["reason"]
    readonly_fields = [f.name for f in Event._meta.fields]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
