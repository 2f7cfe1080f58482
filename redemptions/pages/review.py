"""The QTM reviewer's queue and review screen (R-REV-1, R-REV-2)."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from core.calendar import BusinessCalendar
from core.errors import ApplicationError
from core.events import events_for
from core.listing import listing as listing_of
from core.pages import require_scope
from core.paging import CappedPaginator
from core.scopes import acting_user
from redemptions.filters import ReviewQueueFilter
from redemptions.models import PaymentRequest, RequestDocument
from redemptions.selectors import request_flags, requests_visible_to, review_queue
from redemptions.services import (
    request_approve,
    request_ask,
    request_reject,
    request_release,
    request_take,
)
from redemptions.services.review import approval_payout
from vouchers.combined import combined_view


def sla_state(request: PaymentRequest, calendar: BusinessCalendar, today: Any) -> str:
    """overdue, at_risk (due within one business day), paused or on_track."""
    if request.status == PaymentRequest.Status.INFO_REQUESTED:
        return "paused"
    if request.due_by < today:
        return "overdue"
    if calendar.between(today, request.due_by) <= 1:
        return "at_risk"
    return "on_track"


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    require_scope(request, "requests:review")
    filterset = ReviewQueueFilter(request.GET, queryset=review_queue(acting_user(request)))
    rows_qs, listing = listing_of(
        request, filterset.qs, search=HISTORY_SEARCH, columns=QUEUE_COLUMNS
    )
    number = request.GET.get("page")
    page = CappedPaginator(rows_qs, 50, page=number).get_page(number)
    today = timezone.localdate()
    calendars: dict[int, BusinessCalendar] = {}
    rows = []
    for item in page.object_list:
        program = item.voucher.program
        if program.pk not in calendars:  # one holiday query per program, not per row
            calendars[program.pk] = BusinessCalendar.for_program(program)
        calendar = calendars[program.pk]
        rows.append((item, sla_state(item, calendar, today)))
    return render(
        request,
        "redemptions/queue.html",
        {
            "page": page,
            "rows": rows,
            "listing": listing,
            "filter": filterset,
            "today": today,
            "kinds": PaymentRequest.Kind.choices,
            "statuses": PaymentRequest.OPEN_STATUSES,
        },
    )


def _open(request: HttpRequest, pk: int) -> PaymentRequest:
    return get_object_or_404(
        requests_visible_to(acting_user(request))
        .select_related("reviewer")
        .prefetch_related("documents"),
        pk=pk,
    )


QUEUE_COLUMNS = {
    "due": "due_by",
    "customer": "voucher__customer__name",
    "partner": "voucher__partner__name",
    "value": "voucher__value",
    "status": "status",
}
HISTORY_SEARCH = [
    "voucher__code",
    "voucher__customer__name",
    "voucher__customer__tpid",
    "voucher__partner__name",
    "voucher__partner__partner_id",
]
HISTORY_COLUMNS = {
    "decided": "decided_at",
    "submitted": "submitted_at",
    "customer": "voucher__customer__name",
    "partner": "voucher__partner__name",
    "status": "status",
    "paid": "payout_amount",
}


@login_required
def history(request: HttpRequest) -> HttpResponse:
    """A reviewer's own decisions, newest first: what they approved or rejected and why,
    to answer a partner's call or a dispute (R-REV-2)."""
    require_scope(request, "requests:review")
    mine = (
        requests_visible_to(acting_user(request))
        .filter(decided_by=acting_user(request))
        .order_by("-decided_at", "-pk")
    )
    decided, listing = listing_of(request, mine, search=HISTORY_SEARCH, columns=HISTORY_COLUMNS)
    number = request.GET.get("page")
    page = CappedPaginator(decided, 50, page=number).get_page(number)
    return render(request, "redemptions/history.html", {"page": page, "listing": listing})


@login_required
def review(request: HttpRequest, pk: int) -> HttpResponse:
    require_scope(request, "requests:review")
    return _review_page(request, _open(request, pk))


def _review_page(
    request: HttpRequest,
    item: PaymentRequest,
    *,
    refusal: ApplicationError | None = None,
    posted: Any = None,
) -> HttpResponse:
    """The review screen; after a refused decision, with the refusal on top and what the
    reviewer typed still in its box."""
    voucher = item.voucher
    calendar = BusinessCalendar.for_program(voucher.program)
    today = timezone.localdate()
    document = item.documents.order_by("-version").first()
    context: dict[str, Any] = {
        "req": item,
        "voucher": voucher,
        "document": document,
        "events": events_for("request", item.pk),
        "sla": sla_state(item, calendar, today),
        "payout": approval_payout(voucher, item)
        if item.status == PaymentRequest.Status.SUBMITTED
        else None,
        "mine": item.reviewer_id == request.user.pk,
        "signed_in_window": voucher.issued_on <= item.customer_signed_on <= today
        and voucher.issued_on <= item.partner_signed_on <= today,
        "before_expiry": item.submitted_at.date() <= voucher.expires_on,
        "flags": request_flags(item),
        "signatures": signature_rows(document),
        "combined": combined_view(voucher, viewer_partner=None),  # staff see every part
        "refusal": refusal,
        "posted": posted or {},
    }
    status = refusal.status_code if refusal else 200
    return render(request, "redemptions/review.html", context, status=status)


def signature_rows(document: RequestDocument | None) -> list[dict[str, Any]]:
    """The document's signatures for the review screen (R-DOC-1): each beside the name typed
    for its party, a certificate's name that differs from it flagged; a scan's boxes with
    their crops."""
    if document is None:
        return []
    crops = {(box.get("page"), box.get("field")): box for box in document.scan_boxes or []}
    rows = []
    for signature in document.signatures:
        typed = signature.get("typed_name") or ""
        name = signature.get("name") or ""
        box = crops.get((signature.get("page"), signature.get("field"))) or {}
        rows.append(
            {
                **signature,
                "party_label": {"customer": "Customer", "partner": "Partner"}.get(
                    signature.get("party") or "", "Signature"
                ),
                "mismatch": signature.get("kind") == "digital"
                and bool(typed)
                and _same_name(name) != _same_name(typed),
                "signed_at": parse_datetime(signature.get("signed_at") or ""),
                "png": box.get("png"),
                "empty": bool(box.get("empty")),
            }
        )
    return rows


def _same_name(name: str) -> str:
    """Names compared as a reviewer would: case, accents and spacing aside."""
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(letters.casefold().split())


@login_required
@xframe_options_sameorigin
def document_inline(request: HttpRequest, pk: int, version: int) -> FileResponse:
    """The stored PDF shown inline beside the checks, for reviewers (program managers
    download documents from the request page)."""
    require_scope(request, "requests:review")
    item = _open(request, pk)
    document = item.documents.filter(version=version).first()
    if document is None:
        raise Http404
    response = FileResponse(document.file.open("rb"), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{document.download_name()}"'
    return response


ACTIONS = {
    "take": lambda pk, user, data: request_take(request_id=pk, user=user),
    "release": lambda pk, user, data: request_release(request_id=pk, user=user),
    "approve": lambda pk, user, data: request_approve(
        request_id=pk, user=user, signatures_checked=data.get("signatures_checked") == "on"
    ),
    "reject": lambda pk, user, data: request_reject(
        request_id=pk, user=user, reason=data.get("reason", "")
    ),
    "ask": lambda pk, user, data: request_ask(
        request_id=pk, user=user, question=data.get("question", "")
    ),
}
DONE = {
    "take": "You are working on this request.",
    "release": "Released for other reviewers.",
    "approve": "Approved; the payment was created and the partner is being told.",
    "reject": "Rejected; the partner is being told.",
    "ask": "Question sent; the review clock is paused until the partner answers.",
}


@login_required
@require_POST
def decide(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    require_scope(request, "requests:review")
    if what not in ACTIONS:
        raise Http404
    item = _open(request, pk)
    try:
        ACTIONS[what](item.pk, acting_user(request), request.POST)
    except ApplicationError as exc:
        return _review_page(request, _open(request, pk), refusal=exc, posted=request.POST)
    messages.success(request, DONE[what])
    if what in ("approve", "reject", "ask"):
        return redirect("review-queue")
    return redirect("review-detail", pk=item.pk)
