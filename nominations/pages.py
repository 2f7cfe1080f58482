from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from core.events import events_for
from core.pages import add_refusal, require_scope
from core.scopes import acting_user, has_scope
from customers.selectors import customers_awaiting_verification
from nominations.forms import CloseDealForm, NominationForm, RejectForm
from nominations.models import Nomination
from nominations.rules import Evaluation
from nominations.selectors import nominations_visible_to
from nominations.services import (
    deal_evaluate,
    nomination_approve,
    nomination_check,
    nomination_close_deal,
    nomination_create,
    nomination_reject,
)

UNVERIFIED_SHOWN = 50


def _nomination(request: HttpRequest, pk: int) -> Nomination:
    return get_object_or_404(nominations_visible_to(acting_user(request)), pk=pk)


@login_required
def nomination_list(request: HttpRequest) -> HttpResponse:
    require_scope(request, "nominations:read")
    deciding = has_scope(acting_user(request), "nominations:decide")
    status = request.GET.get("status", "submitted" if deciding else "")
    qs = nominations_visible_to(acting_user(request)).select_related("voucher")
    if status in Nomination.Status.values:
        qs = qs.filter(status=status)
    if deciding:
        qs = qs.order_by("expected_close_date", "created_at")  # the most urgent first
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    # R-ELIG-8: customers field reps added wait for a program manager's verification.
    unverified = customers_awaiting_verification().order_by("created_at") if deciding else None
    return render(
        request,
        "nominations/list.html",
        {
            "page": page,
            "status": status,
            "statuses": Nomination.Status.choices,
            "deciding": deciding,
            "reject_form": RejectForm(),
            "unverified": unverified[:UNVERIFIED_SHOWN] if unverified is not None else [],
            "unverified_count": unverified.count() if unverified is not None else 0,
        },
    )


def _check(form: NominationForm) -> Evaluation | None:
    data = form.cleaned_data
    if not all(
        data.get(k) for k in ("program", "customer", "offer", "deal_value", "expected_close_date")
    ):
        return None
    kwargs = form.service_kwargs()
    kwargs.pop("notes", None)
    return nomination_check(**kwargs)


@login_required
def nomination_new(request: HttpRequest) -> HttpResponse:
    require_scope(request, "nominations:write")
    if request.method == "POST":
        form = NominationForm(request.POST, user=acting_user(request))
        if form.is_valid():
            try:
                nomination = nomination_create(user=acting_user(request), **form.service_kwargs())
            except ApplicationError as exc:
                add_refusal(form, exc)
            else:
                messages.success(
                    request, f"Nomination of {nomination.customer.name} submitted for approval."
                )
                return redirect("nomination-detail", pk=nomination.pk)
    else:
        # Back from adding a customer not yet in the portal: that customer is chosen.
        initial = {"agreement_type": "new", "customer": request.GET.get("customer", "")}
        form = NominationForm(user=acting_user(request), initial=initial)
    return render(request, "nominations/new.html", {"form": form})


@login_required
@require_POST
def nomination_check_partial(request: HttpRequest) -> HttpResponse:
    """htmx: the eligibility panel, recomputed as the form is filled in."""
    require_scope(request, "nominations:write")
    form = NominationForm(request.POST, user=acting_user(request))
    form.is_valid()
    evaluation = _check(form) if not form.errors.get("customer") else None
    return render(
        request, "nominations/_eligibility.html", {"evaluation": evaluation, "form": form}
    )


@login_required
def nomination_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_scope(request, "nominations:read")
    nomination = _nomination(request, pk)
    return render(
        request,
        "nominations/detail.html",
        {
            "nomination": nomination,
            "events": events_for("nomination", nomination.pk),
            "voucher": getattr(nomination, "voucher", None),
            "deciding": has_scope(acting_user(request), "nominations:decide"),
            "verifying": has_scope(acting_user(request), "customers:verify"),
            "reject_form": RejectForm(),
        },
    )


@login_required
@require_POST
def nomination_approve_page(request: HttpRequest, pk: int) -> HttpResponse:
    require_scope(request, "nominations:decide")
    nomination = _nomination(request, pk)
    try:
        nomination_approve(nomination_id=nomination.pk, user=acting_user(request))
        messages.success(request, f"Approved the nomination of {nomination.customer.name}.")
    except ApplicationError as exc:
        messages.error(request, exc.message + (f" ({exc.rule})" if exc.rule else ""))
    if request.POST.get("from") == "queue":
        return redirect("nomination-list")
    return redirect("nomination-detail", pk=nomination.pk)


@login_required
@require_POST
def nomination_reject_page(request: HttpRequest, pk: int) -> HttpResponse:
    require_scope(request, "nominations:decide")
    nomination = _nomination(request, pk)
    form = RejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the field rep a reason for the rejection.")
        return redirect("nomination-detail", pk=nomination.pk)
    try:
        nomination_reject(
            nomination_id=nomination.pk,
            user=acting_user(request),
            reason=form.cleaned_data["reason"],
        )
        messages.success(request, f"Rejected the nomination of {nomination.customer.name}.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("nomination-detail", pk=nomination.pk)


@login_required
def nomination_close(request: HttpRequest, pk: int) -> HttpResponse:
    require_scope(request, "nominations:decide")
    nomination = _nomination(request, pk)
    if nomination.status != Nomination.Status.APPROVED:
        messages.error(request, "Only an approved nomination can have its deal recorded (R-VOU-1).")
        return redirect("nomination-detail", pk=nomination.pk)
    form = CloseDealForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            voucher = nomination_close_deal(
                nomination_id=nomination.pk,
                user=acting_user(request),
                **form.cleaned_data,
            )
        except ApplicationError as exc:
            add_refusal(form, exc)
        else:
            messages.success(
                request, f"Voucher {voucher.code} issued; the customer is being mailed."
            )
            return redirect("voucher-detail", code=voucher.code)
    return render(
        request,
        "nominations/close.html",
        {"nomination": nomination, "form": form, "preview": _preview(nomination, form)},
    )


def _preview(nomination: Nomination, form: CloseDealForm) -> Evaluation | None:
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    if not (data.get("closed_on") and data.get("purchase_amount")):
        return None
    return deal_evaluate(
        nomination=nomination,
        closed_on=data["closed_on"],
        purchase_amount=data["purchase_amount"],
        today=timezone.localdate(),
    )


@login_required
@require_POST
def nomination_close_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx: suggested value, cap and applying row for the deal as typed."""
    require_scope(request, "nominations:decide")
    nomination = _nomination(request, pk)
    form = CloseDealForm(request.POST)
    return render(
        request, "nominations/_close_preview.html", {"preview": _preview(nomination, form)}
    )
