"""Program data (program-rules.md): every number, date and list a rule needs.

Loaded for FY24 from programs/data/fy24.toml by `manage.py load_program fy24` and
editable by program managers in the admin. No program's numbers live in Python.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from core.choices import Segment
from core.fields import MoneyField


def _validate_int_list(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(v, int) and v >= 0 for v in value):
        raise ValidationError("Enter a list of whole numbers of days, e.g. [90, 30, 7].")


def _validate_str_list(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValidationError('Enter a list of codes, e.g. ["commercial", "education"].')


class Program(models.Model):
    class OverlapPolicy(models.TextChoices):
        KEEP_LOWER = "keep_lower", "Keep the lower cap effective"
        KEEP_HIGHER = "keep_higher", "Keep the higher cap effective"

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    window_start = models.DateField(help_text="First day of qualifying purchases (R-ELIG-7).")
    window_end = models.DateField(help_text="Last day of qualifying purchases (R-ELIG-7).")
    value_rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="Voucher value as a share of the qualifying purchase, before the cap.",
    )
    voucher_validity_months = models.PositiveSmallIntegerField(help_text="R-VOU-2")
    reminder_days = models.JSONField(
        default=list, validators=[_validate_int_list], help_text="Days before expiry (R-VOU-8)."
    )
    poe_reminder_days = models.JSONField(
        default=list,
        validators=[_validate_int_list],
        help_text="Days before expiry to remind partners of the POE.",
    )
    review_sla_business_days = models.PositiveSmallIntegerField(help_text="R-REV-1")
    holiday_country = models.CharField(
        max_length=8, blank=True, help_text="Country calendar of the `holidays` package (R-REV-1)."
    )
    extension_days = models.PositiveSmallIntegerField(help_text="R-VOU-9")
    extension_max_count = models.PositiveSmallIntegerField(help_text="R-VOU-9")
    eligible_categories = models.JSONField(
        default=list, validators=[_validate_str_list], help_text="R-ELIG-1"
    )
    public_sector_categories = models.JSONField(
        default=list,
        validators=[_validate_str_list],
        help_text="Categories always on the public-sector scheme.",
    )
    public_institution_categories = models.JSONField(
        default=list,
        validators=[_validate_str_list],
        help_text="Categories on the public-sector scheme when marked a public institution.",
    )
    ineligible_licensing_channels = models.JSONField(
        default=list,
        blank=True,
        validators=[_validate_str_list],
        help_text='Deals licensed through these channels are refused (R-ELIG-2), e.g. ["csp"].',
    )
    cap_overlap_policy = models.CharField(
        max_length=20, choices=OverlapPolicy.choices, default=OverlapPolicy.KEEP_LOWER
    )
    source_file = models.CharField(max_length=200, blank=True)
    source_sha256 = models.CharField(max_length=64, blank=True)
    loaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-window_start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_end__gte=F("window_start")), name="program_window_order"
            ),
            models.CheckConstraint(
                condition=Q(value_rate__gte=0) & Q(value_rate__lte=1),
                name="program_value_rate_range",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class SegmentRule(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="segment_rules")
    segment = models.CharField(max_length=20, choices=Segment.choices)
    max_prior_e3_licences = models.PositiveIntegerField(
        help_text="Customers must own fewer than this many M365 E3 licences (R-ELIG-3)."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "segment"], name="segment_rule_unique")
        ]

    def __str__(self) -> str:
        return f"{self.program}: {self.segment} < {self.max_prior_e3_licences}"


class CountryList(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="country_lists")
    code = models.SlugField(max_length=40)
    name = models.CharField(max_length=100)
    countries = models.JSONField(
        default=list, validators=[_validate_str_list], help_text="ISO 3166 alpha-2 codes."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "code"], name="country_list_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({len(self.countries)})"


class Workload(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="workloads")
    code = models.CharField(max_length=40)
    name = models.CharField(max_length=120)
    requires_any_of = models.JSONField(
        default=list,
        blank=True,
        validators=[_validate_str_list],
        help_text="Qualifies only when attached to one of these workloads (R-WL-1).",
    )
    segments = models.JSONField(
        default=list,
        blank=True,
        validators=[_validate_str_list],
        help_text="Empty: every segment (R-WL-2).",
    )
    country_lists = models.ManyToManyField(
        CountryList, blank=True, help_text="Empty: every country (R-WL-2)."
    )
    available_from = models.DateField(null=True, blank=True)
    available_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["program", "code"]
        constraints = [models.UniqueConstraint(fields=["program", "code"], name="workload_unique")]

    def __str__(self) -> str:
        return self.code


class Offer(models.Model):
    class CapSource(models.TextChoices):
        ROWS = "rows", "Cap rows of this offer"
        COMBINED = "combined", "Its part of the combined cap table"

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="offers")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=120)
    exclusive_group = models.SlugField(
        max_length=40, help_text="One voucher per group per customer (R-OFFER-1)."
    )
    requires_migration = models.BooleanField(default=False, help_text="R-OFFER-2")
    qualifying_migration_sources = models.JSONField(
        default=list, blank=True, validators=[_validate_str_list]
    )
    workloads = models.ManyToManyField(Workload, related_name="offers")
    cap_source = models.CharField(max_length=20, choices=CapSource.choices, default=CapSource.ROWS)
    prior_licence_threshold = models.BooleanField(
        default=True,
        help_text="The segment's prior M365 E3 licence threshold applies (R-ELIG-3); the "
        "Copilot offer has none.",
    )

    class Meta:
        ordering = ["program", "code"]
        constraints = [models.UniqueConstraint(fields=["program", "code"], name="offer_unique")]

    def __str__(self) -> str:
        return f"{self.code} ({self.program})"


class RowStatus(models.TextChoices):
    EFFECTIVE = "effective", "Effective"
    SUPERSEDED = "superseded", "Superseded (overlaps a row kept effective)"


class CapRow(models.Model):
    """One row of the cap table (R-CAP-1..3); the most specific applying row wins."""

    class Basis(models.TextChoices):
        DEAL_CLOSE = "deal_close", "Deal close date"
        ISSUED = "issued", "Voucher issue date"

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="cap_rows")
    key = models.SlugField(max_length=60)
    label = models.CharField(max_length=200)
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="cap_rows")
    segment = models.CharField(
        max_length=20, choices=Segment.choices, blank=True, help_text="Blank: both."
    )
    basis = models.CharField(max_length=20, choices=Basis.choices, default=Basis.DEAL_CLOSE)
    window_start = models.DateField()
    window_end = models.DateField()
    deal_closed_by = models.DateField(null=True, blank=True, help_text="For issue-date rows.")
    deal_above = MoneyField(
        null=True, blank=True, help_text="Applies only to deals above this amount (USD)."
    )
    required_workload = models.ForeignKey(
        Workload,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="Applies only with this workload.",
    )
    cap = MoneyField()
    max_deal = MoneyField(
        null=True,
        blank=True,
        help_text="Deals above this amount are not eligible (R-CAP-2).",
    )
    priority = models.SmallIntegerField(default=0, help_text="Higher is more specific (R-CAP-3).")
    status = models.CharField(max_length=20, choices=RowStatus, default=RowStatus.EFFECTIVE)
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["program", "offer__code", "-priority", "window_start"]
        constraints = [
            models.UniqueConstraint(fields=["program", "key"], name="cap_row_key_unique"),
            models.CheckConstraint(
                condition=Q(window_end__gte=F("window_start")), name="cap_row_window_order"
            ),
            models.CheckConstraint(condition=Q(cap__gte=0), name="cap_row_cap_not_negative"),
            models.CheckConstraint(
                condition=Q(max_deal__isnull=True)
                | Q(deal_above__isnull=True)
                | Q(max_deal__gt=F("deal_above")),
                name="cap_row_deal_range",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    def overlap_key(self) -> tuple[object, ...]:
        return (
            self.offer_id,
            self.segment,
            self.basis,
            self.required_workload_id,
            self.deal_above,
            self.priority,
        )

    def covers(self, day: date) -> bool:
        return self.window_start <= day <= self.window_end


class CombinedCapRow(models.Model):
    """R-CAP-4: total payout across a customer's vouchers of different groups."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="combined_cap_rows")
    key = models.SlugField(max_length=60)
    label = models.CharField(max_length=200)
    segment = models.CharField(max_length=20, choices=Segment.choices)
    window_start = models.DateField(help_text="Deal close date from.")
    window_end = models.DateField(help_text="Deal close date until.")
    part_caps = models.JSONField(
        help_text='Cap per exclusive group, e.g. {"m365": "10000.00", "copilot": "5000.00"}.'
    )
    combined_cap = MoneyField()
    status = models.CharField(max_length=20, choices=RowStatus, default=RowStatus.EFFECTIVE)
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["program", "segment", "window_start", "combined_cap"]
        constraints = [
            models.UniqueConstraint(fields=["program", "key"], name="combined_cap_key_unique"),
            models.CheckConstraint(
                condition=Q(window_end__gte=F("window_start")), name="combined_cap_window_order"
            ),
            models.CheckConstraint(
                condition=Q(combined_cap__gte=0), name="combined_cap_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        if not isinstance(self.part_caps, dict) or not self.part_caps:
            raise ValidationError({"part_caps": "Enter an object of group: amount."})
        for group, amount in self.part_caps.items():
            try:
                Decimal(str(amount))
            except ArithmeticError as exc:
                raise ValidationError(
                    {"part_caps": f"{group}: {amount!r} is not an amount."}
                ) from exc

    def part_cap(self, group: str) -> Decimal | None:
        amount = self.part_caps.get(group)
        return None if amount is None else Decimal(str(amount))

    def overlap_key(self) -> tuple[object, ...]:
        return (self.segment,)

    def covers(self, day: date) -> bool:
        return self.window_start <= day <= self.window_end


class ProgramHoliday(models.Model):
    """Extra non-business days beyond the `holidays` package calendar (R-REV-1)."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["program", "date"], name="program_holiday_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"
