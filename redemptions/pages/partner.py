from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from core.events import events_for
from core.money import MoneyFormatError, parse_money
from core.pages import add_refusal, require_scope
from core.scopes import acting_user, has_scope
from core.words import date_text
from redemptions.forms import AmendForm, RequestForm
from redemptions.models import PaymentRequest
from redemptions.selectors import correction_of, payout_preview, requests_visible_to
from redemptions.services import request_amend, request_submit
from redemptions.services.submission import document_refusal
from vouchers.expiry import voucher_expired
from vouchers.models import Voucher
from vouchers.pages import page_voucher, voucher_page


@login_required
@require_POST
def request_submit_page(request: HttpRequest, code: str) -> HttpResponse:
    require_scope(request, "requests:submit")
    voucher = page_voucher(request, code)
    form = RequestForm(request.POST, request.FILES)
    if form.is_valid():
        data = dict(form.cleaned_data)
        upload = data.pop("document")
        try:
            created = request_submit(
                voucher_id=voucher.pk, user=acting_user(request), upload=upload, **data
            )
        except ApplicationError as exc:
            add_refusal(form, exc)
        else:
            messages.success(
                request,
                f"{created.get_kind_display()} submitted; "
                f"the review target is {date_text(created.due_by)}.",
            )
            return redirect("request-detail", pk=created.pk)
    elif form.cleaned_data.get("document") is not None:
        # The fields were refused by the form: say now too what is wrong with the file.
        refusal = document_refusal(
            voucher=voucher,
            kind=form.cleaned_data.get("kind", ""),
            upload=form.cleaned_data["document"],
        )
        if refusal is not None:
            add_refusal(form, refusal)
    return voucher_page(request, voucher, request_form=form, status=400)


@login_required
@require_POST
def payout_preview_partial(request: HttpRequest, code: str) -> HttpResponse:
    """htmx: what approving the request would pay, as the partner types the SOW value."""
    require_scope(request, "requests:submit")
    voucher = page_voucher(request, code)
    try:
        sow_value: Decimal | None = parse_money(request.POST.get("sow_value", "") or "0")
    except MoneyFormatError:
        sow_value = None  # the preview says to enter an amount
    kind = request.POST.get("kind", PaymentRequest.Kind.INITIAL)
    if kind not in PaymentRequest.Kind.values:
        raise Http404
    preview = payout_preview(voucher=voucher, kind=kind, sow_value=sow_value)
    return render(
        request,
        "redemptions/_payout_preview.html",
        {"preview": preview, "voucher": voucher, "kind": kind},
    )


def _request(request: HttpRequest, pk: int) -> PaymentRequest:
    return get_object_or_404(
        requests_visible_to(acting_user(request)).prefetch_related("documents"), pk=pk
    )


def _request_page(
    request: HttpRequest,
    payment_request: PaymentRequest,
    *,
    amend_form: AmendForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = acting_user(request)
    # R-VOU-2: once the voucher expired (marked by the nightly job or not yet) the page says
    # so and offers no amendment.
    expired = voucher_expired(payment_request.voucher)
    can_amend = (
        has_scope(user, "requests:submit")
        and payment_request.status == PaymentRequest.Status.INFO_REQUESTED
        and not expired
    )
    correction, corrected = correction_of(payment_request)
    if correction == "open" and (
        expired
        or not has_scope(user, "requests:submit")
        or payment_request.voucher.status != Voucher.Status.CLAIMED
    ):
        correction = ""
    context: dict[str, Any] = {
        "req": payment_request,
        "correction": correction,
        "corrected": corrected,
        "voucher": payment_request.voucher,
        "expired": expired,
        "events": events_for("request", payment_request.pk),
        "documents": payment_request.documents.all(),
        "latest_document": payment_request.documents.order_by("-version")
        .defer("scan_boxes")
        .first(),
        "can_amend": can_amend,
        "can_dispute": has_scope(user, "disputes:open")
        and payment_request.status
        in (PaymentRequest.Status.APPROVED, PaymentRequest.Status.REJECTED)
        and not payment_request.disputes.filter(status="open").exists(),
        "amend_form": amend_form or AmendForm(),
    }
    return render(request, "redemptions/detail.html", context, status=status)


@login_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_scope(request, "requests:read")
    return _request_page(request, _request(request, pk))


@login_required
@require_POST
def request_amend_page(request: HttpRequest, pk: int) -> HttpResponse:
    require_scope(request, "requests:submit")
    payment_request = _request(request, pk)
    form = AmendForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            request_amend(
                request_id=payment_request.pk, user=acting_user(request), **form.service_kwargs()
            )
        except ApplicationError as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, "Your answer was sent; the review continues.")
            return redirect("request-detail", pk=payment_request.pk)
    return _request_page(request, payment_request, amend_form=form, status=400)
