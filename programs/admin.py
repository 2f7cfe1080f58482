from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from core.admin_site import ScopedInline, ScopedModelAdmin
from programs.models import (
    CapRow,
    CombinedCapRow,
    CountryList,
    Offer,
    Program,
    ProgramHoliday,
    SegmentRule,
    Workload,
)
from programs.services import program_apply_overlap_policy


class SegmentRuleInline(ScopedInline):
    model = SegmentRule


class HolidayInline(ScopedInline):
    model = ProgramHoliday


@admin.register(Program)
class ProgramAdmin(ScopedModelAdmin):
    list_display = [
        "code",
        "name",
        "window_start",
        "window_end",
        "value_rate",
        "is_active",
        "loaded_at",
    ]
    readonly_fields = ["source_file", "source_sha256", "loaded_at"]
    inlines = [SegmentRuleInline, HolidayInline]


class _OverlapCheckingAdmin(ScopedModelAdmin):
    """Saving a cap row re-runs the overlap check, so an edit cannot leave two rows
    for the same key effective at once (R-CAP-4 decision)."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        for overlap in program_apply_overlap_policy(program=obj.program):
            messages.warning(request, f"Overlap: {overlap}")


@admin.register(CapRow)
class CapRowAdmin(_OverlapCheckingAdmin):
    list_display = [
        "key",
        "offer",
        "segment",
        "basis",
        "window_start",
        "window_end",
        "deal_above",
        "cap",
        "max_deal",
        "priority",
        "status",
    ]
    list_filter = ["program", "offer__code", "segment", "basis", "status"]
    readonly_fields = ["status", "superseded_by"]
    search_fields = ["key", "label"]


@admin.register(CombinedCapRow)
class CombinedCapRowAdmin(_OverlapCheckingAdmin):
    list_display = [
        "key",
        "segment",
        "window_start",
        "window_end",
        "part_caps",
        "combined_cap",
        "status",
        "superseded_by",
    ]
    list_filter = ["program", "segment", "status"]
    readonly_fields = ["status", "superseded_by"]


@admin.register(Offer)
class OfferAdmin(ScopedModelAdmin):
    list_display = [
        "code",
        "name",
        "program",
        "exclusive_group",
        "requires_migration",
        "cap_source",
    ]
    list_filter = ["program"]
    filter_horizontal = ["workloads"]


@admin.register(Workload)
class WorkloadAdmin(ScopedModelAdmin):
    list_display = ["code", "name", "program", "segments", "available_from", "available_until"]
    list_filter = ["program"]
    filter_horizontal = ["country_lists"]


@admin.register(CountryList)
class CountryListAdmin(ScopedModelAdmin):
    list_display = ["code", "name", "program"]
    list_filter = ["program"]
