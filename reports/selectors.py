"""Program dashboard figures, computed by the database: every figure is one
aggregate query, so the page costs the same number of queries at any size."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from nominations.models import Nomination
from payments.models import Payment
from redemptions.models import PaymentRequest
from redemptions.selectors import approved_sows
from vouchers.models import Voucher

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Filters:
    program: str = ""
    offer: str = ""
    segment: str = ""
    country: str = ""
    start: date | None = None
    end: date | None = None

    @classmethod
    def from_query(cls, params: Any) -> Filters:
        def day(name: str) -> date | None:
            try:
                return date.fromisoformat(params.get(name, ""))
            except ValueError:
                return None

        return cls(
            program=params.get("program", "")[:40],
            offer=params.get("offer", "")[:20],
            segment=params.get("segment", "")[:20],
            country=params.get("country", "")[:2].upper(),
            start=day("start"),
            end=day("end"),
        )

    def query(self) -> str:
        from urllib.parse import urlencode

        data = {
            k: v
            for k, v in (
                ("program", self.program),
                ("offer", self.offer),
                ("segment", self.segment),
                ("country", self.country),
                ("start", self.start or ""),
                ("end", self.end or ""),
            )
            if v
        }
        return urlencode({k: str(v) for k, v in data.items()})


def _scope(qs: QuerySet[Any], f: Filters, *, prefix: str, day_field: str) -> QuerySet[Any]:
    lookups: dict[str, Any] = {}
    if f.program:
        lookups[f"{prefix}program__code"] = f.program
    if f.offer:
        lookups[f"{prefix}offer__code"] = f.offer
    if f.segment:
        lookups[f"{prefix}customer__segment"] = f.segment
    if f.country:
        lookups[f"{prefix}customer__country"] = f.country
    if f.start:
        lookups[f"{day_field}__gte"] = f.start
    if f.end:
        lookups[f"{day_field}__lte"] = f.end
    return qs.filter(**lookups)


def nominations(f: Filters) -> QuerySet[Nomination]:
    return _scope(Nomination.objects.all(), f, prefix="", day_field="created_at__date")


def vouchers(f: Filters) -> QuerySet[Voucher]:
    return _scope(Voucher.objects.all(), f, prefix="", day_field="issued_on")


def payments(f: Filters) -> QuerySet[Payment]:
    return _scope(Payment.objects.all(), f, prefix="voucher__", day_field="approved_on")


def requests(f: Filters) -> QuerySet[PaymentRequest]:
    return _scope(
        PaymentRequest.objects.all(), f, prefix="voucher__", day_field="submitted_at__date"
    )


@dataclass
class Stage:
    key: str
    label: str
    count: int
    money: Decimal
    conversion: float | None = None  # share of the previous stage, for display only


@dataclass
class Dashboard:
    stages: list[Stage] = field(default_factory=list)
    committed: Decimal = ZERO
    approved_payouts: Decimal = ZERO
    paid: Decimal = ZERO
    by_segment: list[tuple[str, Decimal]] = field(default_factory=list)
    by_offer: list[tuple[str, Decimal]] = field(default_factory=list)
    by_country: list[tuple[str, Decimal]] = field(default_factory=list)
    by_month: list[tuple[str, Decimal]] = field(default_factory=list)
    decided: int = 0
    within_sla: int = 0
    median_days: Decimal | None = None
    expiring: list[tuple[int, int, Decimal]] = field(default_factory=list)
    computed_at: datetime | None = None  # set when served from the cache


def funnel(f: Filters) -> list[Stage]:
    n = nominations(f).aggregate(
        nominated=Count("id"),
        nominated_money=Coalesce(Sum("estimated_value"), ZERO),
        approved=Count("id", filter=Q(status__in=["approved", "issued"])),
        approved_money=Coalesce(
            Sum("estimated_value", filter=Q(status__in=["approved", "issued"])), ZERO
        ),
    )
    # `id IN (approved SOWs)` is one hashed pass over the requests; a correlated EXISTS
    # probed the requests once per voucher and was most of the page at 100,000 vouchers.
    has_sow = Q(pk__in=approved_sows().values("voucher_id"))
    v = vouchers(f).aggregate(
        issued=Count("id"),
        issued_money=Coalesce(Sum("value"), ZERO),
        claimed=Count("id", filter=Q(partner__isnull=False)),
        claimed_money=Coalesce(Sum("value", filter=Q(partner__isnull=False)), ZERO),
        sow=Count("id", filter=has_sow),
        sow_money=Coalesce(Sum("value", filter=has_sow), ZERO),
        redeemed=Count("id", filter=Q(status="fully_redeemed")),
        redeemed_money=Coalesce(Sum("paid_total", filter=Q(status="fully_redeemed")), ZERO),
        expired=Count("id", filter=Q(status="expired")),
        expired_money=Coalesce(Sum("value", filter=Q(status="expired")), ZERO),
        cancelled=Count("id", filter=Q(status="cancelled")),
        cancelled_money=Coalesce(Sum("value", filter=Q(status="cancelled")), ZERO),
    )
    rows = [
        Stage("nominated", "Nominated", n["nominated"], n["nominated_money"]),
        Stage("approved", "Approved", n["approved"], n["approved_money"]),
        Stage("issued", "Issued", v["issued"], v["issued_money"]),
        Stage("claimed", "Claimed", v["claimed"], v["claimed_money"]),
        Stage("sow_approved", "SOW approved", v["sow"], v["sow_money"]),
        Stage("fully_redeemed", "Fully redeemed", v["redeemed"], v["redeemed_money"]),
        Stage("expired", "Expired", v["expired"], v["expired_money"]),
        Stage("cancelled", "Cancelled", v["cancelled"], v["cancelled_money"]),
    ]
    for previous, stage in pairwise(rows[:6]):
        stage.conversion = stage.count / previous.count if previous.count else None
    return rows


def _grouped(qs: QuerySet[Payment], key: str) -> list[tuple[str, Decimal]]:
    data = qs.values(key).annotate(total=Sum("amount_usd")).order_by(key)
    return [(str(row[key] or "—"), row["total"] or ZERO) for row in data]


def median_decision_days(f: Filters) -> Decimal | None:
    """The median time from submission to decision, by an ordered OFFSET in the database."""
    decided = (
        requests(f)
        .filter(decided_at__isnull=False)
        .annotate(
            took=ExpressionWrapper(
                F("decided_at") - F("submitted_at"), output_field=DurationField()
            )
        )
    )
    count = decided.count()
    if not count:
        return None
    middle = list(
        decided.order_by("took").values_list("took", flat=True)[(count - 1) // 2 : count // 2 + 1]
    )
    total = sum(middle, timedelta())
    seconds = Decimal(total.days * 86400 + total.seconds) + Decimal(total.microseconds) / 10**6
    days = seconds / (86400 * len(middle))
    return days.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def dashboard(f: Filters, *, today: date) -> Dashboard:
    board = Dashboard(stages=funnel(f))
    live = vouchers(f).exclude(status="cancelled")
    board.committed = live.aggregate(s=Coalesce(Sum("value"), ZERO))["s"]
    paid = payments(f)
    totals = paid.aggregate(
        approved=Coalesce(Sum("amount_usd"), ZERO),
        paid=Coalesce(Sum("amount_usd", filter=Q(status="paid")), ZERO),
    )
    board.approved_payouts, board.paid = totals["approved"], totals["paid"]
    board.by_segment = _grouped(paid, "voucher__customer__segment")
    board.by_offer = _grouped(paid, "voucher__offer__code")
    board.by_country = _grouped(paid, "voucher__customer__country")
    months = (
        paid.annotate(month=TruncMonth("approved_on"))
        .values("month")
        .annotate(total=Sum("amount_usd"))
    )
    board.by_month = [(f"{row['month']:%Y-%m}", row["total"]) for row in months.order_by("month")]
    sla = (
        requests(f)
        .filter(decided_at__isnull=False)
        .annotate(day=TruncDate("decided_at"))
        .aggregate(decided=Count("id"), within=Count("id", filter=Q(day__lte=F("due_by"))))
    )
    board.decided, board.within_sla = sla["decided"], sla["within"]
    board.median_days = median_decision_days(f)
    # R-VOU-8: a rejected request is no redemption, so its voucher is still at risk.
    unredeemed = live.filter(status__in=["issued", "claimed"], expires_on__gte=today).exclude(
        pk__in=PaymentRequest.objects.filter(status__in=PaymentRequest.REDEMPTION_STATUSES).values(
            "voucher_id"
        )
    )
    windows = unredeemed.aggregate(
        **{
            f"n{d}": Count("id", filter=Q(expires_on__lte=today + timedelta(days=d)))
            for d in (30, 60, 90)
        },
        **{
            f"v{d}": Coalesce(
                Sum("value", filter=Q(expires_on__lte=today + timedelta(days=d))), ZERO
            )
            for d in (30, 60, 90)
        },
    )
    board.expiring = [(d, windows[f"n{d}"], windows[f"v{d}"]) for d in (30, 60, 90)]
    return board


def dashboard_cached(f: Filters, *, today: date) -> Dashboard:
    """The figures from the cache when computed less than DASHBOARD_CACHE_SECONDS ago.

    Every figure aggregates the whole program, so computing them takes time in proportion
    to the vouchers (about 0.3 s at 100,000 on PostgreSQL); program managers look at the
    same figures many times a day, so each filter's figures are computed at most once per
    period, and the beat task `reports.tasks.warm_dashboard` keeps the unfiltered view
    fresh (`make bench`). 0 turns the cache off (tests)."""
    seconds = settings.DASHBOARD_CACHE_SECONDS
    if not seconds:
        return dashboard(f, today=today)
    key = f"dashboard:v1:{today.isoformat()}:{f.query()}"
    board = cast("Dashboard | None", cache.get(key))
    if board is None:
        board = dashboard(f, today=today)
        board.computed_at = timezone.now()
        cache.set(key, board, seconds)
    return board


def dashboard_refresh(*, today: date) -> Dashboard:
    """Recomputes the unfiltered figures into the cache (the beat task)."""
    board = dashboard(Filters(), today=today)
    board.computed_at = timezone.now()
    cache.set(
        f"dashboard:v1:{today.isoformat()}:{Filters().query()}",
        board,
        settings.DASHBOARD_CACHE_SECONDS,
    )
    return board
