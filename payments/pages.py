from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import ApplicationError
from core.listing import listing as listing_of
from core.money import MoneyFormatError, parse_money
from core.pages import require_scope
from core.scopes import acting_user, has_scope
from payments.models import Dispute, Payment, PaymentBatch
from payments.selectors import disputes_visible_to, payments_visible_to
from payments.services import batch_confirm, batch_csv, batch_export, dispute_open, dispute_resolve

PAYMENT_SEARCH = [
    "voucher__code",
    "voucher__customer__name",
    "partner__name",
    "partner__partner_id",
    "batch__reference",
]
DISPUTE_SEARCH = [
    "request__voucher__code",
    "request__voucher__customer__name",
    "partner__name",
    "partner__partner_id",
    "text",
]
PAYMENT_COLUMNS = {
    "approved": "approved_on",
    "partner": "partner__name",
    "voucher": "voucher__code",
    "usd": "amount_usd",
    "local": "amount_local",
    "status": "status",
}


@login_required
def payment_list(request: HttpRequest) -> HttpResponse:
    """Partners follow their payments and download monthly statements (R-PAY-3)."""
    require_scope(request, "payments:read")
    user = acting_user(request)
    payments = payments_visible_to(user).select_related("voucher__customer", "request")
    months = (
        payments.annotate(month=TruncMonth("approved_on"))
        .values("month")
        .annotate(usd=Sum("amount_usd"), local=Sum("amount_local"))
        .order_by("-month")
    )
    totals = payments.aggregate(usd=Sum("amount_usd"))
    rows, listing = listing_of(
        request,
        payments.select_related("partner", "batch").order_by("-approved_on", "-id"),
        search=PAYMENT_SEARCH,
        columns=PAYMENT_COLUMNS,
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "payments/list.html",
        {
            "page": page,
            "listing": listing,
            "months": months,
            "total_usd": totals["usd"] or Decimal("0"),
            "pending_usd": payments.filter(status=Payment.Status.PENDING).aggregate(
                s=Sum("amount_usd")
            )["s"]
            or 0,
            "is_partner": user.partner_id is not None,
            "can_manage": has_scope(user, "payments:manage"),
            "batches": PaymentBatch.objects.all()[:20]
            if has_scope(user, "payments:manage")
            else [],
            "unbatched": Payment.objects.filter(
                status=Payment.Status.PENDING, batch__isnull=True
            ).count()
            if has_scope(user, "payments:manage")
            else 0,
        },
    )


@login_required
@require_POST
def batch_create_page(request: HttpRequest) -> HttpResponse:
    require_scope(request, "payments:manage")
    try:
        batch, text = batch_export(user=acting_user(request))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("payment-list")
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="payment-batch-{batch.pk}.csv"'
    return response


@login_required
def batch_download_page(request: HttpRequest, pk: int) -> HttpResponse:
    require_scope(request, "payments:manage")
    batch = get_object_or_404(PaymentBatch, pk=pk)
    response = HttpResponse(batch_csv(batch), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="payment-batch-{batch.pk}.csv"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def batch_confirm_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The confirmation step before a batch is marked paid: what it pays, to whom and in
    which currencies, and Payment Central's reference of the run (R-PAY-2)."""
    require_scope(request, "payments:manage")
    batch = get_object_or_404(PaymentBatch, pk=pk)
    error, status = "", 200
    if request.method == "POST":
        try:
            batch_confirm(
                batch_id=batch.pk,
                user=acting_user(request),
                reference=request.POST.get("reference", ""),
            )
        except ApplicationError as exc:
            error, status = exc.message, exc.status_code
            batch.refresh_from_db()
        else:
            messages.success(request, f"Batch {pk} confirmed paid; the partners are mailed.")
            return redirect("payment-list")
    totals = (
        batch.payments.values("currency")
        .annotate(local=Sum("amount_local"), usd=Sum("amount_usd"), n=Count("id"))
        .order_by("currency")
    )
    return render(
        request,
        "payments/batch_confirm.html",
        {
            "batch": batch,
            "totals": totals,
            "total_usd": batch.payments.aggregate(s=Sum("amount_usd"))["s"] or Decimal("0"),
            "partners": batch.payments.values("partner").distinct().count(),
            "error": error,
            "reference": request.POST.get("reference", ""),
        },
        status=status,
    )


@login_required
def dispute_list(request: HttpRequest) -> HttpResponse:
    """Disputes by status, searchable; open ones oldest first, the order to work them in
    (R-PAY-5), decided ones newest first."""
    require_scope(request, "disputes:read")
    status = request.GET.get("status", "open")
    disputes = disputes_visible_to(acting_user(request)).select_related(
        "request__voucher", "request__voucher__customer"
    )
    if status in Dispute.Status.values:
        disputes = disputes.filter(status=status)
    oldest_first = status == Dispute.Status.OPEN
    disputes, listing = listing_of(
        request,
        disputes.order_by("opened_at" if oldest_first else "-opened_at", "pk"),
        search=DISPUTE_SEARCH,
        columns={},
    )
    page = Paginator(disputes, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "payments/disputes.html",
        {
            "page": page,
            "disputes": page.object_list,
            "listing": listing,
            "status": status,
            "statuses": Dispute.Status.choices,
            "can_resolve": has_scope(acting_user(request), "disputes:resolve"),
        },
    )


@login_required
@require_POST
def dispute_open_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Partner: dispute the decision or payment of request `pk`."""
    require_scope(request, "disputes:open")
    try:
        dispute_open(user=acting_user(request), request_id=pk, text=request.POST.get("text", ""))
        messages.success(request, "Your dispute was sent to the reviewers.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("request-detail", pk=pk)


@login_required
@require_POST
def dispute_resolve_page(request: HttpRequest, pk: int) -> HttpResponse:
    require_scope(request, "disputes:resolve")
    dispute = get_object_or_404(disputes_visible_to(acting_user(request)), pk=pk)
    raw = request.POST.get("adjustment_usd", "").strip()
    try:
        amount = parse_money(raw) if raw else None
    except MoneyFormatError as exc:
        messages.error(request, f"The adjustment: {exc}")
        return redirect("dispute-list")
    try:
        dispute_resolve(
            dispute_id=dispute.pk,
            user=acting_user(request),
            uphold=request.POST.get("uphold") == "1",
            resolution=request.POST.get("resolution", ""),
            adjustment_usd=amount,
        )
        messages.success(request, "Dispute resolved.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("dispute-list")
