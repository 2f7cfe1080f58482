from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.choices import Role
from core.errors import ApplicationError
from core.events import events_for
from core.listing import listing as listing_of
from core.pages import add_refusal, require_scope
from core.paging import CappedPaginator
from core.ratelimit import rate_limit
from core.scopes import acting_user, effective_role, has_scope
from partners.models import Partner
from redemptions.panels import partner_next_steps, redemption_context
from vouchers.combined import combined_view
from vouchers.conflicts import customer_evidence, partners_evidence, same_company
from vouchers.expiry import voucher_expired
from vouchers.extensions import extension_decide, extension_request
from vouchers.forms import ClaimForm, DeclineForm, ForwardForm
from vouchers.models import Extension, Voucher
from vouchers.pdf import voucher_workload_names
from vouchers.selectors import (
    code_or_error,
    partner_declined,
    voucher_for,
    vouchers_visible_to,
)
from vouchers.services import (
    voucher_claim,
    voucher_decline,
    voucher_forward,
    voucher_has_requests,
)

if TYPE_CHECKING:
    from redemptions.forms import RequestForm


def page_voucher(request: HttpRequest, code: str) -> Voucher:
    """Pages treat a mistyped code like a missing voucher: 404."""
    try:
        return voucher_for(acting_user(request), code)
    except ApplicationError as exc:
        raise Http404(exc.message) from exc


VOUCHER_SEARCH = [
    "code",
    "customer__name",
    "customer__tpid",
    "partner__name",
    "partner__partner_id",
]
VOUCHER_COLUMNS = {
    "code": "code",
    "customer": "customer__name",
    "value": "value",
    "paid": "paid_total",
    "expires": "expires_on",
    "status": "status",
}


@login_required
def voucher_list(request: HttpRequest) -> HttpResponse:
    require_scope(request, "vouchers:read")
    qs = vouchers_visible_to(acting_user(request), listing=True)
    status = request.GET.get("status", "")
    if status in Voucher.Status.values:
        qs = qs.filter(status=status)
    is_partner = has_scope(acting_user(request), "vouchers:claim")
    if is_partner:
        qs = qs.prefetch_related("payment_requests")
    qs, listing = listing_of(
        request, qs.order_by("expires_on", "id"), search=VOUCHER_SEARCH, columns=VOUCHER_COLUMNS
    )
    number = request.GET.get("page")
    page = CappedPaginator(qs, 50, page=number).get_page(number)
    today = timezone.localdate()
    steps = partner_next_steps(page) if is_partner else [(v, "") for v in page]
    # R-VOU-2: an expired voucher, marked by the nightly job or not yet, shows no next step.
    rows = [(v, step, voucher_expired(v, today=today)) for v, step in steps]
    return render(
        request,
        "vouchers/list.html",
        {
            "page": page,
            "rows": rows,
            "listing": listing,
            "is_partner": is_partner,
            "status": status,
            "statuses": Voucher.Status.choices,
            "today": today,
        },
    )


def voucher_page(
    request: HttpRequest,
    voucher: Voucher,
    *,
    forward_form: ForwardForm | None = None,
    request_form: RequestForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The voucher's page for every role; its redemption part comes from redemptions."""
    user = acting_user(request)
    today = timezone.localdate()
    # R-VOU-2: an expired voucher (marked by the nightly job or not yet) says so and offers
    # no forward, claim, decline, extension or request.
    expired = voucher_expired(voucher, today=today)
    can_forward = (
        has_scope(user, "vouchers:forward")
        and voucher.status == Voucher.Status.ISSUED
        and not expired
    )
    viewer_partner = user.partner if effective_role(user) == Role.PARTNER else None
    # R-VOU-5: a partner whose decline stands is offered neither claim nor decline again.
    declined = (
        viewer_partner is not None
        and voucher.status == Voucher.Status.ISSUED
        and partner_declined(voucher_id=voucher.pk, partner_code=viewer_partner.partner_id)
    )
    # R-VOU-5: declining is offered only where it would be accepted: an issued voucher
    # forwarded to this partner and not declined yet, or this partner's claim before any
    # payment request (voucher_decline refuses the rest).
    can_decline = (
        viewer_partner is not None
        and not expired
        and (
            (voucher.status == Voucher.Status.ISSUED and not declined)
            or (
                voucher.status == Voucher.Status.CLAIMED
                and voucher.partner_id == viewer_partner.pk
                and voucher.paid_total == 0
                and not voucher_has_requests(voucher)
            )
        )
    )
    return render(
        request,
        "vouchers/detail.html",
        {
            "voucher": voucher,
            "workload_names": voucher_workload_names(voucher),
            "events": events_for("voucher", voucher.pk),
            "days_left": (voucher.expires_on - today).days,
            "expired": expired,
            "can_forward": can_forward,
            "forward_form": forward_form or ForwardForm(),
            "forwards": voucher.forwards.select_related("partner"),
            "can_pdf": has_scope(user, "vouchers:pdf"),
            "is_partner_view": has_scope(user, "vouchers:claim"),
            "decline_form": DeclineForm(),
            "can_decline": can_decline,
            "can_extend": has_scope(user, "extensions:request")
            and voucher.status == Voucher.Status.CLAIMED
            and not expired,
            "extensions": list(voucher.extensions.all()),
            "combined": combined_view(
                voucher, viewer_partner=viewer_partner.pk if viewer_partner else None
            ),
            "declined_by_viewer": declined,
            **redemption_context(user=user, voucher=voucher, request_form=request_form),
        },
        status=status,
    )


@login_required
def voucher_detail(request: HttpRequest, code: str) -> HttpResponse:
    require_scope(request, "vouchers:read")
    return voucher_page(request, page_voucher(request, code))


@login_required
@require_POST
def voucher_forward_page(request: HttpRequest, code: str) -> HttpResponse:
    require_scope(request, "vouchers:forward")
    voucher = page_voucher(request, code)
    form = ForwardForm(request.POST)
    if form.is_valid():
        try:
            forward = voucher_forward(
                voucher_id=voucher.pk,
                user=acting_user(request),
                partner_id=form.cleaned_data["partner"],
                message=form.cleaned_data["message"],
            )
        except ApplicationError as exc:
            add_refusal(form, exc)
        else:
            messages.success(
                request,
                f"Voucher sent to {forward.partner.name}. You'll hear when they accept or decline.",
            )
            return redirect("voucher-detail", code=voucher.code)
    else:
        form.errors.pop("partner", None)
        form.add_error(None, "Choose a partner from the directory.")
    return voucher_page(request, voucher, forward_form=form, status=400)


@login_required
def partner_directory(request: HttpRequest) -> HttpResponse:
    """htmx: FastTrack Ready Partners matching the search (R-VOU-4). A partner of the
    customer's own company is shown blocked with the evidence that matched, by the check
    that refuses forwarding and claiming (R-VOU-7)."""
    require_scope(request, "vouchers:forward")
    q = request.GET.get("q", "").strip()[:100]
    partners = Partner.objects.filter(frp_approved=True)
    if q:
        partners = partners.filter(
            Q(name__icontains=q) | Q(partner_id__icontains=q) | Q(country__iexact=q)
        )
    customer = acting_user(request).customer
    shown = list(partners.order_by("name")[:25])
    rows: list[tuple[Partner, tuple[str, ...]]] = [(partner, ()) for partner in shown]
    if customer is not None:
        ours = customer_evidence(customer)
        theirs = partners_evidence(shown)
        rows = [(p, same_company(ours, theirs[p.pk]).evidence) for p in shown]
    return render(request, "vouchers/_directory.html", {"rows": rows, "q": q})


@login_required
def voucher_claim_page(request: HttpRequest) -> HttpResponse:
    require_scope(request, "vouchers:claim")
    form = ClaimForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rate_limit(scope="claim", request=request)
            voucher = voucher_claim(
                code=code_or_error(form.cleaned_data["code"]),
                user=acting_user(request),
            )
        except Http404:
            form.add_error(
                "code", "No voucher has this code. Check it against the customer's voucher mail."
            )
        except ApplicationError as exc:
            add_refusal(form, exc)
        else:
            messages.success(
                request, f"You now redeem voucher {voucher.code} for {voucher.customer.name}."
            )
            return redirect("voucher-detail", code=voucher.code)
    return render(
        request, "vouchers/claim.html", {"form": form}, status=400 if form.errors else 200
    )


@login_required
@require_POST
def voucher_decline_page(request: HttpRequest, code: str) -> HttpResponse:
    require_scope(request, "vouchers:claim")
    voucher = page_voucher(request, code)
    form = DeclineForm(request.POST)
    form.is_valid()
    try:
        voucher_decline(
            voucher_id=voucher.pk,
            user=acting_user(request),
            reason=form.cleaned_data.get("reason", ""),
        )
    except ApplicationError as exc:
        # Answered with the refusal's status (409 for a second decline, R-VOU-5), like the API.
        messages.error(request, exc.message + (f" ({exc.rule})" if exc.rule else ""))
        return voucher_page(request, voucher, status=exc.status_code)
    messages.success(request, f"You declined voucher {voucher.code}; the customer has been told.")
    return redirect("voucher-list")


@login_required
@require_POST
def extension_request_page(request: HttpRequest, code: str) -> HttpResponse:
    require_scope(request, "extensions:request")
    voucher = page_voucher(request, code)
    try:
        extension_request(
            voucher_id=voucher.pk, user=acting_user(request), reason=request.POST.get("reason", "")
        )
        messages.success(request, "Extension requested; a reviewer will decide.")
    except ApplicationError as exc:
        messages.error(request, exc.message + (f" ({exc.rule})" if exc.rule else ""))
    return redirect("voucher-detail", code=voucher.code)


@login_required
def extension_list(request: HttpRequest) -> HttpResponse:
    require_scope(request, "extensions:decide")
    status = request.GET.get("status", Extension.Status.PENDING)
    extensions = Extension.objects.select_related(
        "voucher__customer", "voucher__partner", "requested_by"
    )
    if status in Extension.Status.values:
        extensions = extensions.filter(status=status)
    return render(
        request,
        "vouchers/extensions.html",
        {
            "extensions": extensions,
            "status": status,
            "statuses": Extension.Status.choices,
        },
    )


@login_required
@require_POST
def extension_decide_page(request: HttpRequest, pk: int) -> HttpResponse:
    require_scope(request, "extensions:decide")
    try:
        extension_decide(
            extension_id=pk,
            user=acting_user(request),
            approve=request.POST.get("approve") == "1",
            note=request.POST.get("note", ""),
        )
        messages.success(request, "Extension decided.")
    except Extension.DoesNotExist as exc:
        raise Http404 from exc
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("extension-list")
