from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe

from core.choices import Segment
from core.csvsafe import csv_safe
from core.pages import require_scope
from core.scopes import acting_user
from programs.models import Program
from redemptions.models import PaymentRequest
from reports import selectors
from reports.charts import bar_chart
from reports.selectors import Filters
from vouchers.models import Voucher

CHARTS = {
    "funnel": ("Funnel: vouchers at each stage", False),
    "segment": ("Approved payouts by segment (USD)", True),
    "offer": ("Approved payouts by offer (USD)", True),
    "country": ("Approved payouts by country (USD)", True),
    "month": ("Approved payouts by month (USD)", True),
}


def _chart_rows(board: selectors.Dashboard, name: str) -> list[tuple[str, Any]]:
    if name == "funnel":
        return [(s.label, s.count) for s in board.stages]
    return {
        "segment": board.by_segment,
        "offer": board.by_offer,
        "country": board.by_country,
        "month": board.by_month,
    }[name]


def _labelled(board: selectors.Dashboard, name: str) -> list[tuple[str, Any]]:
    """A chart's rows as people read them: segments by their names ("SMC-C"), where the
    CSV keeps the codes a spreadsheet filters on."""
    rows = _chart_rows(board, name)
    if name == "segment":
        labels = dict(Segment.choices)
        return [(labels.get(key, key), value) for key, value in rows]
    return rows


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Program managers: where money and vouchers stand, with charts matching their CSVs."""
    require_scope(request, "reports:read")
    filters = Filters.from_query(request.GET)
    board = selectors.dashboard_cached(filters, today=timezone.localdate())
    charts = [
        (name, title, mark_safe(bar_chart(_labelled(board, name), title=title, money=money)))  # noqa: S308 - escaped in bar_chart
        for name, (title, money) in CHARTS.items()
    ]
    return render(
        request,
        "reports/dashboard.html",
        {
            "board": board,
            "charts": charts,
            "filters": filters,
            "query": filters.query(),
            "programs": Program.objects.order_by("-window_start").values_list("code", flat=True),
            "sla_share": board.within_sla / board.decided if board.decided else None,
        },
    )


def _csv_response(
    name: str, header: list[str], rows: Iterable[Iterable[Any]]
) -> StreamingHttpResponse:
    """Streams rows as CSV: a large export never sits in memory. Formula cells are neutralised."""

    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Echo())

    def stream() -> Iterator[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([csv_safe(_cell(v)) for v in row])

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


@login_required
def chart_csv(request: HttpRequest, name: str) -> StreamingHttpResponse:
    require_scope(request, "reports:read")
    if name not in CHARTS:
        raise Http404
    filters = Filters.from_query(request.GET)
    board = selectors.dashboard_cached(filters, today=timezone.localdate())
    if name == "funnel":
        rows: list[Any] = [(s.key, s.count, s.money) for s in board.stages]
        return _csv_response("funnel", ["stage", "count", "usd"], rows)
    return _csv_response(f"payouts-by-{name}", [name, "usd"], _chart_rows(board, name))


EXPORTS: dict[str, tuple[list[str], Any]] = {
    "nominations": (
        [
            "id",
            "program",
            "customer_tpid",
            "customer",
            "offer",
            "status",
            "deal_value",
            "expected_close_date",
            "estimated_value",
            "nominated_by",
            "created_at",
            "licensing_channel",
        ],
        lambda f: (
            selectors.nominations(f)
            .order_by("pk")
            .values_list(
                "pk",
                "program__code",
                "customer__tpid",
                "customer__name",
                "offer__code",
                "status",
                "deal_value",
                "expected_close_date",
                "estimated_value",
                "nominated_by__username",
                "created_at",
                "licensing_channel",
            )
        ),
    ),
    "vouchers": (
        [
            "code",
            "program",
            "customer_tpid",
            "customer",
            "offer",
            "status",
            "value",
            "paid_total",
            "issued_on",
            "expires_on",
            "partner_id",
            "scheme",
        ],
        lambda f: (
            selectors.vouchers(f)
            .order_by("pk")
            .values_list(
                "code",
                "program__code",
                "customer__tpid",
                "customer__name",
                "offer__code",
                "status",
                "value",
                "paid_total",
                "issued_on",
                "expires_on",
                "partner__partner_id",
                "scheme",
            )
        ),
    ),
    "requests": (
        [
            "id",
            "voucher",
            "kind",
            "attempt",
            "status",
            "sow_value",
            "submitted_at",
            "due_by",
            "decided_at",
            "payout_amount",
            "partner_id",
        ],
        lambda f: (
            selectors.requests(f)
            .order_by("pk")
            .values_list(
                "pk",
                "voucher__code",
                "kind",
                "attempt",
                "status",
                "sow_value",
                "submitted_at",
                "due_by",
                "decided_at",
                "payout_amount",
                "voucher__partner__partner_id",
            )
        ),
    ),
    "payments": (
        [
            "id",
            "kind",
            "voucher",
            "partner_id",
            "amount_usd",
            "currency",
            "fx_rate",
            "amount_local",
            "approved_on",
            "status",
            "batch",
        ],
        lambda f: (
            selectors.payments(f)
            .order_by("pk")
            .values_list(
                "pk",
                "kind",
                "voucher__code",
                "partner__partner_id",
                "amount_usd",
                "currency",
                "fx_rate",
                "amount_local",
                "approved_on",
                "status",
                "batch_id",
            )
        ),
    ),
}


@login_required
def export(request: HttpRequest, kind: str) -> StreamingHttpResponse:
    """CSV of nominations, vouchers, requests or payments with the dashboard's filters."""
    require_scope(request, "reports:read")
    if kind not in EXPORTS:
        raise Http404
    header, query = EXPORTS[kind]
    rows = query(Filters.from_query(request.GET)).iterator(chunk_size=2000)
    return _csv_response(kind, header, rows)


def _step(voucher: Voucher, requests: list[PaymentRequest]) -> tuple[str, Any]:
    """Where a voucher is stuck and since when."""
    if voucher.status in (
        Voucher.Status.EXPIRED,
        Voucher.Status.CANCELLED,
        Voucher.Status.FULLY_REDEEMED,
    ):
        return voucher.get_status_display(), voucher.updated_at
    latest = max(requests, key=lambda r: r.submitted_at, default=None)
    if voucher.partner_id is None:
        return "Waiting for the customer to choose a partner", voucher.created_at
    if latest is None:
        return "Partner engaged, SOW not submitted", voucher.claimed_at or voucher.updated_at
    if latest.status == PaymentRequest.Status.INFO_REQUESTED:
        return f"{latest.get_kind_display()}: waiting for the partner's answer", latest.updated_at
    if latest.status == PaymentRequest.Status.SUBMITTED:
        return f"{latest.get_kind_display()} under QTM review", latest.submitted_at
    if latest.status == PaymentRequest.Status.REJECTED:
        return f"{latest.get_kind_display()} rejected", latest.decided_at
    return "SOW approved, POE not submitted", latest.decided_at


@login_required
def rep_board(request: HttpRequest) -> HttpResponse:
    """Field reps: their customers' vouchers and the step each one is stuck at, with how long."""
    require_scope(request, "nominations:write")
    user = acting_user(request)
    vouchers = (
        Voucher.objects.filter(nomination__nominated_by=user)
        .select_related("customer", "partner", "offer")
        .prefetch_related("payment_requests")
        .order_by("expires_on")
    )
    now = timezone.now()
    rows = []
    for voucher in vouchers:
        step, since = _step(voucher, list(voucher.payment_requests.all()))
        rows.append((voucher, step, (now - since).days if since else None))
    return render(request, "reports/rep_board.html", {"rows": rows})
