from typing import Any

from rest_framework import serializers

from core.serializers import ModelSerializer, StrictCharField
from programs.models import (
    CapRow,
    CombinedCapRow,
    CountryList,
    Offer,
    Program,
    SegmentRule,
    Workload,
)


class WorkloadSerializer(ModelSerializer):
    country_lists: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )

    class Meta:
        model = Workload
        fields = [
            "code",
            "name",
            "requires_any_of",
            "segments",
            "country_lists",
            "available_from",
            "available_until",
        ]


class OfferSerializer(ModelSerializer):
    workloads: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )

    class Meta:
        model = Offer
        fields = [
            "code",
            "name",
            "exclusive_group",
            "requires_migration",
            "qualifying_migration_sources",
            "workloads",
            "cap_source",
            "prior_licence_threshold",
        ]


class CapRowSerializer(ModelSerializer):
    offer = StrictCharField(source="offer.code", read_only=True)
    required_workload = StrictCharField(
        source="required_workload.code", read_only=True, default=None, allow_null=True
    )
    superseded_by = StrictCharField(
        source="superseded_by.key", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = CapRow
        fields = [
            "key",
            "label",
            "offer",
            "segment",
            "basis",
            "window_start",
            "window_end",
            "deal_closed_by",
            "deal_above",
            "required_workload",
            "cap",
            "max_deal",
            "priority",
            "status",
            "superseded_by",
        ]


class CombinedCapRowSerializer(ModelSerializer):
    superseded_by = StrictCharField(
        source="superseded_by.key", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = CombinedCapRow
        fields = [
            "key",
            "label",
            "segment",
            "window_start",
            "window_end",
            "part_caps",
            "combined_cap",
            "status",
            "superseded_by",
            "note",
        ]


class SegmentRuleSerializer(ModelSerializer):
    class Meta:
        model = SegmentRule
        fields = ["segment", "max_prior_e3_licences"]


class CountryListSerializer(ModelSerializer):
    class Meta:
        model = CountryList
        fields = ["code", "name", "countries"]


class ProgramSerializer(ModelSerializer):
    offers = OfferSerializer(many=True, read_only=True)
    workloads = WorkloadSerializer(many=True, read_only=True)
    cap_rows = CapRowSerializer(many=True, read_only=True)
    combined_cap_rows = CombinedCapRowSerializer(many=True, read_only=True)
    segment_rules = SegmentRuleSerializer(many=True, read_only=True)
    country_lists = CountryListSerializer(many=True, read_only=True)

    class Meta:
        model = Program
        fields = [
            "code",
            "name",
            "is_active",
            "window_start",
            "window_end",
            "value_rate",
            "voucher_validity_months",
            "reminder_days",
            "poe_reminder_days",
            "review_sla_business_days",
            "holiday_country",
            "extension_days",
            "extension_max_count",
            "eligible_categories",
            "public_sector_categories",
            "public_institution_categories",
            "ineligible_licensing_channels",
            "cap_overlap_policy",
            "source_file",
            "source_sha256",
            "loaded_at",
            "segment_rules",
            "country_lists",
            "workloads",
            "offers",
            "cap_rows",
            "combined_cap_rows",
        ]
