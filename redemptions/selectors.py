from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet, Sum

from accounts.models import User
from core.choices import Role
from core.errors import Violation
from core.scopes import effective_role
from redemptions.models import PaymentRequest, RequestDocument
from redemptions.payouts import Payout, payout_for
from vouchers.models import Voucher


def requests_visible_to(user: User) -> QuerySet[PaymentRequest]:
    """Staff see every request; a partner its own; a customer and a field rep those on
    their vouchers."""
    base = PaymentRequest.objects.select_related(
        "voucher", "voucher__customer", "voucher__partner", "voucher__offer", "voucher__program"
    )
    role = effective_role(user)
    if role in (Role.PROGRAM_MANAGER, Role.REVIEWER):
        return base
    if role == Role.PARTNER and user.partner_id:
        return base.filter(voucher__partner_id=user.partner_id)
    if role == Role.CUSTOMER and user.customer_id:
        return base.filter(voucher__customer_id=user.customer_id)
    if role == Role.FIELD_REP:
        return base.filter(voucher__nomination__nominated_by=user)
    return base.none()


def request_flags(payment_request: PaymentRequest) -> list[Violation]:
    """What the reviewer must weigh beyond the automatic checks, each with its rule: the
    R-VOU-7 same-company check that could not be made with confidence at claim time.
    Reads the voucher the request selectors already join."""
    flag = payment_request.voucher.conflict_flag
    return [Violation("R-VOU-7", flag)] if flag else []


def approved_total(voucher: Voucher) -> Decimal:
    """What approvals on this voucher have paid or will pay (USD)."""
    total = voucher.payment_requests.filter(status=PaymentRequest.Status.APPROVED).aggregate(
        s=Sum("payout_amount")
    )["s"]
    return total or Decimal("0.00")


def next_step(voucher: Voucher) -> tuple[str, str]:
    """The partner's next action on a claimed voucher and what it needs, as (kind, text).
    After a rejection the next request of that kind is the one correction R-DOC-2 allows;
    after a second rejection there is none ("closed")."""
    rows = [(r.kind, r.status) for r in voucher.payment_requests.all()]
    initial = [s for k, s in rows if k == PaymentRequest.Kind.INITIAL]
    final = [s for k, s in rows if k == PaymentRequest.Kind.FINAL]
    if "info_requested" in initial + final:
        return ("answer", "Answer the reviewer's question")
    if "approved" in final:
        return ("done", "Fully redeemed")
    if "submitted" in final:
        return ("wait", "Final request under review")
    if "approved" in initial:
        return _after_rejections(final, "final", "POE", "final payment request")
    if "submitted" in initial:
        return ("wait", "SOW under review")
    return _after_rejections(initial, "initial", "SOW", "initial payment request")


def _after_rejections(statuses: list[str], kind: str, label: str, what: str) -> tuple[str, str]:
    rejected = statuses.count(PaymentRequest.Status.REJECTED)
    if rejected >= 2:
        return ("closed", f"The corrected {label} was rejected too; no further {label} (R-DOC-2)")
    if rejected == 1:
        return (kind, f"Submit the corrected {label} ({what}); one correction is allowed")
    return (kind, f"Submit the signed {label} ({what})")


def correction_of(request: PaymentRequest) -> tuple[str, PaymentRequest | None]:
    """For a rejected request, what R-DOC-2 allows next: ("submitted", the corrected
    request), ("used", None) when it was the correction itself, or ("open", None)."""
    if request.status != PaymentRequest.Status.REJECTED:
        return ("", None)
    later = (
        PaymentRequest.objects.filter(
            voucher_id=request.voucher_id, kind=request.kind, attempt__gt=request.attempt
        )
        .order_by("attempt")
        .first()
    )
    if later is not None:
        return ("submitted", later)
    return ("used" if request.attempt >= 2 else "open", None)


def correctable_rejections(vouchers: QuerySet[Voucher]) -> QuerySet[PaymentRequest]:
    """Rejected first requests on these vouchers with no corrected request yet: each may be
    corrected once (R-DOC-2)."""
    corrected = PaymentRequest.objects.filter(
        voucher=OuterRef("voucher"), kind=OuterRef("kind"), attempt=2
    )
    return (
        PaymentRequest.objects.filter(
            voucher__in=vouchers, status=PaymentRequest.Status.REJECTED, attempt=1
        )
        .exclude(Exists(corrected))
        .select_related("voucher", "voucher__customer")
    )


def approved_sows() -> QuerySet[PaymentRequest]:
    """Approved initial requests. A voucher with one has reached the "SOW approved" stage:
    its POE is due (POE reminders), its customer may ask for an extension (R-VOU-9) and the
    dashboard's funnel counts it. Filter by `voucher` or use it as a subquery."""
    return PaymentRequest.objects.filter(
        kind=PaymentRequest.Kind.INITIAL, status=PaymentRequest.Status.APPROVED
    )


def approved_sow_value(voucher: Voucher) -> Decimal | None:
    return approved_sows().filter(voucher=voucher).values_list("sow_value", flat=True).first()


def payout_preview(*, voucher: Voucher, kind: str, sow_value: Decimal | None) -> Payout | None:
    """What approving this request would pay, by the voucher's scheme, and what is left."""
    if kind == PaymentRequest.Kind.FINAL:
        sow_value = approved_sow_value(voucher)
    if sow_value is None or sow_value <= 0:
        return None
    return payout_for(
        scheme=voucher.scheme,
        kind=kind,
        voucher_value=voucher.value,
        sow_value=sow_value,
        paid_before=approved_total(voucher),
    )


def documents_without_crops() -> Prefetch[Any]:
    """A request's documents for lists: without a scan's signature crops, up to a few
    hundred KB each, which only the review screen shows."""
    return Prefetch("documents", queryset=RequestDocument.objects.defer("scan_boxes"))


def review_queue(user: User) -> QuerySet[PaymentRequest]:
    """Open requests for QTM, the oldest due date first (R-REV-1)."""
    return (
        requests_visible_to(user)
        .filter(status__in=PaymentRequest.OPEN_STATUSES)
        .select_related("reviewer")
        .prefetch_related(documents_without_crops())
        .order_by("due_by", "submitted_at", "id")
    )
