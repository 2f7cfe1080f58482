from __future__ import annotations

from collections.abc import Iterable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from core.events import events_for
from core.listing import listing as listing_of
from core.models import Event
from core.pages import add_refusal, require_scope
from core.scopes import acting_user, has_scope
from core.words import counted
from customers.selectors import customers_awaiting_verification
from nominations.forms import CloseDealForm, NominationForm, RejectForm, WithdrawForm
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
    nomination_update,
    nomination_withdraw,
    nominations_decide,
)

UNVERIFIED_SHOWN = 50


def _nomination(request: HttpRequest, pk: int) -> Nomination:
    return get_object_or_404(nominations_visible_to(acting_user(request)), pk=pk)


NOMINATION_SEARCH = [
    "customer__name",
    "customer__tpid",
    "nominated_by__username",
    "nominated_by__first_name",
    "nominated_by__last_name",
    "voucher__code",
]
NOMINATION_COLUMNS = {
    "customer": "customer__name",
    "deal": "deal_value",
    "value": "estimated_value",
    "close": "expected_close_date",
    "status": "status",
}


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
    qs, listing = listing_of(request, qs, search=NOMINATION_SEARCH, columns=NOMINATION_COLUMNS)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    # R-ELIG-8: customers field reps added wait for a program manager's verification.
    unverified = customers_awaiting_verification().order_by("created_at") if deciding else None
    return render(
        request,
        "nominations/list.html",
        {
            "page": page,
            "listing": listing,
            "status": status,
            "statuses": Nomination.Status.choices,
            "deciding": deciding,
            "bulk": deciding and status == Nomination.Status.SUBMITTED,
            "reject_form": RejectForm(),
            "unverified": unverified[:UNVERIFIED_SHOWN] if unverified is not None else [],
            "unverified_count": unverified.count() if unverified is not None else 0,
        },
    )


def _check(form: NominationForm, *, editing: int | None = None) -> Evaluation | None:
    data = form.cleaned_data
    if not all(
        data.get(k) for k in ("program", "customer", "offer", "deal_value", "expected_close_date")
    ):
        return None
    kwargs = form.service_kwargs()
    kwargs.pop("notes", None)
    return nomination_check(**kwargs, editing=editing)


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
    """htmx: the eligibility panel, recomputed as the form is filled in. `editing` names
    the rep's own nomination the form edits: its group is not held against it."""
    require_scope(request, "nominations:write")
    user = acting_user(request)
    editing = _editing(request)
    form = NominationForm(request.POST, user=user, nomination=editing)
    form.is_valid()
    evaluation = (
        _check(form, editing=editing.pk if editing else None)
        if not form.errors.get("customer")
        else None
    )
    return render(
        request, "nominations/_eligibility.html", {"evaluation": evaluation, "form": form}
    )


def _editing(request: HttpRequest) -> Nomination | None:
    """The nomination an edit form's live check is about: the rep's own, still pending."""
    raw = request.POST.get("editing", "")
    if not raw.isdigit() or len(raw) > 18:
        return None
    return (
        nominations_visible_to(acting_user(request))
        .filter(pk=int(raw), status=Nomination.Status.SUBMITTED)
        .first()
    )


@login_required
def nomination_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The rep changes a nomination awaiting approval; it is checked again as a new one
    (R-ELIG-*, R-OFFER-*, R-WL-*, R-CAP-*). Once decided it stands (R-ELIG-9)."""
    require_scope(request, "nominations:write")
    nomination = _nomination(request, pk)  # a rep's own; another's is 404
    if not nomination.pending:
        messages.error(
            request,
            f"This nomination is {nomination.get_status_display().lower()}; only a nomination "
            "awaiting approval can be edited (R-ELIG-9).",
        )
        return redirect("nomination-detail", pk=nomination.pk)
    user = acting_user(request)
    form = NominationForm(request.POST or None, user=user, nomination=nomination)
    if request.method == "POST" and form.is_valid():
        try:
            nomination_update(nomination_id=nomination.pk, user=user, **form.changes())
        except ApplicationError as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, "Nomination updated; it still awaits approval.")
            return redirect("nomination-detail", pk=nomination.pk)
    return render(request, "nominations/edit.html", {"form": form, "nomination": nomination})


@login_required
@require_POST
def nomination_withdraw_page(request: HttpRequest, pk: int) -> HttpResponse:
    require_scope(request, "nominations:write")
    nomination = _nomination(request, pk)  # a rep's own; another's is 404
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why you withdraw the nomination.")
        return redirect("nomination-detail", pk=nomination.pk)
    try:
        nomination_withdraw(
            nomination_id=nomination.pk,
            user=acting_user(request),
            reason=form.cleaned_data["reason"],
        )
    except ApplicationError as exc:
        messages.error(request, exc.message + (f" ({exc.rule})" if exc.rule else ""))
    else:
        messages.success(
            request,
            f"Nomination of {nomination.customer.name} withdrawn; the customer may be "
            "nominated again.",
        )
    return redirect("nomination-detail", pk=nomination.pk)


def _shown(value: object) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _with_changes(events: Iterable[Event]) -> list[Event]:
    """Each `edited` event carries `changes`: (field, before, after) as the page shows them."""
    described = []
    for event in events:
        changed = event.data.get("changed") if event.action == "edited" else None
        event.changes = [  # type: ignore[attr-defined]
            (name.replace("_", " ").capitalize(), _shown(c.get("from")), _shown(c.get("to")))
            for name, c in (changed or {}).items()
            if isinstance(c, dict)
        ]
        described.append(event)
    return described


@login_required
def nomination_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_scope(request, "nominations:read")
    nomination = _nomination(request, pk)
    return render(
        request,
        "nominations/detail.html",
        {
            "nomination": nomination,
            "events": _with_changes(events_for("nomination", nomination.pk)),
            "voucher": getattr(nomination, "voucher", None),
            "deciding": has_scope(acting_user(request), "nominations:decide"),
            "verifying": has_scope(acting_user(request), "customers:verify"),
            "mine": nomination.nominated_by_id == acting_user(request).pk,
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
def nominations_decide_page(request: HttpRequest) -> HttpResponse:
    """The queue's bulk decision: approve the selected nominations, or reject them with one
    reason; each refusal is listed with its rule, the others go through."""
    require_scope(request, "nominations:decide")
    visible = nominations_visible_to(acting_user(request))
    ids = [int(v) for v in request.POST.getlist("ids") if v.isascii() and v.isdigit()][:1000]
    names = dict(visible.filter(pk__in=ids).values_list("pk", "customer__name"))
    try:
        decided, refused = nominations_decide(
            nomination_ids=[i for i in ids if i in names],
            user=acting_user(request),
            decision=request.POST.get("decision", ""),
            reason=request.POST.get("reason", ""),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        verb = "Approved" if request.POST.get("decision") == "approve" else "Rejected"
        if decided:
            messages.success(request, f"{verb} {counted(len(decided), 'nomination')}.")
        for nomination_id, refusal in refused:
            rule = f" ({refusal.rule})" if refusal.rule else ""
            messages.error(request, f"{names[nomination_id]}: {refusal.message}{rule}")
    back = request.POST.get("next", "")
    if back.startswith("/nominations/") and url_has_allowed_host_and_scheme(back, None):
        return redirect(back)
    return redirect("nomination-list")


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
