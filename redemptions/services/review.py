"""QTM review: take, ask, reject, approve (R-REV-*, R-PAY-*, R-CAP-4, R-CAP-5, R-NOT-2).

Approval locks the voucher row and then the request row, always in that order, so that
concurrent reviewers, retries and double clicks end with one decision and one payment;
the unique constraint on Payment.request holds even if that ever failed (R-PAY-4).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.calendar import BusinessCalendar
from core.errors import ApplicationError, StateConflict
from core.events import event_record
from customers.models import Customer
from notifications.services import mail_enqueue
from payments.services import payment_record
from redemptions.models import PaymentRequest, RequestDocument
from redemptions.payouts import Payout, payout_for
from redemptions.selectors import approved_sow_value, approved_total
from vouchers.combined import combined_position
from vouchers.expiry import voucher_expired
from vouchers.models import Voucher
from vouchers.selectors import voucher_customer_emails


def _locked(request_id: int) -> tuple[Voucher, PaymentRequest]:
    voucher_id = PaymentRequest.objects.values_list("voucher_id", flat=True).get(pk=request_id)
    voucher = (
        Voucher.objects.select_for_update(of=("self",))
        .select_related("program", "customer", "partner", "nomination")
        .get(pk=voucher_id)
    )
    request = PaymentRequest.objects.select_for_update(of=("self",)).get(pk=request_id)
    request.voucher = voucher
    return voucher, request


def _require_open(request: PaymentRequest, user: User, *, allowed: tuple[str, ...]) -> None:
    if request.status not in allowed:
        raise StateConflict(
            f"This request is already {request.get_status_display().lower()}.",
            rule="R-PAY-4" if request.status == PaymentRequest.Status.APPROVED else "R-REV-2",
            code="already_decided",
        )
    if request.reviewer_id and request.reviewer_id != user.pk:
        raise StateConflict(
            f"{_name(request.reviewer)} is working on this request.",
            rule="R-REV-1",
            code="taken",
        )


def _name(user: User | None) -> str:
    if user is None:
        return "Another reviewer"
    return user.get_full_name() or user.username


def _notify_partner(request: PaymentRequest, *, decision: str, text: str = "") -> None:
    """R-REV-3, R-NOT-2: the partner hears of approvals, rejections and questions."""
    voucher = request.voucher
    partner = voucher.partner
    if partner is None:
        return
    emails = list(
        partner.users.filter(is_active=True).exclude(email="").values_list("email", flat=True)
    )
    subjects = {
        "approved": f"Approved: {request.get_kind_display()} for voucher {voucher.code}",
        "rejected": f"Rejected: {request.get_kind_display()} for voucher {voucher.code}",
        "info_requested": (f"Question on your {request.short_name} for voucher {voucher.code}"),
    }
    mail_enqueue(
        kind=f"request_{decision}",
        to=emails,
        subject=subjects[decision],
        template="mail/request_decided",
        context={
            "req": request,
            "voucher": voucher,
            "decision": decision,
            "text": text,
            # R-VOU-2: decided after the expiry date, the mail asks for nothing more.
            "expired": voucher_expired(voucher),
            "request_url": settings.SITE_URL + reverse("request-detail", args=[request.pk]),
        },
        related_object=f"request:{request.pk}",
    )


def _notify_customer(request: PaymentRequest) -> None:
    """api.md: the customer hears when the SOW is approved (the work can go ahead on the
    program's terms) and when the POE approval fully redeems the voucher; the account team
    is copied, as on the voucher mail."""
    voucher = request.voucher
    rep = voucher.nomination.nominated_by
    fully = request.kind == PaymentRequest.Kind.FINAL
    subject = (
        f"Voucher {voucher.code} is fully redeemed"
        if fully
        else f"The SOW for voucher {voucher.code} is approved"
    )
    mail_enqueue(
        kind="voucher_fully_redeemed" if fully else "sow_approved",
        to=voucher_customer_emails(voucher) or [rep.email],
        cc=[rep.email],
        subject=subject,
        template="mail/voucher_progress",
        context={
            "voucher": voucher,
            "partner": voucher.partner,
            "fully": fully,
            "voucher_url": settings.SITE_URL + reverse("voucher-detail", args=[voucher.code]),
            "site_url": settings.SITE_URL,
        },
        dedupe_key=f"{'fully_redeemed' if fully else 'sow_approved'}:{voucher.pk}",
        related_object=f"voucher:{voucher.code}",
    )


def request_take(*, request_id: int, user: User) -> PaymentRequest:
    """The reviewer takes the request so that no one else works on it."""
    with transaction.atomic():
        _, request = _locked(request_id)
        _require_open(request, user, allowed=PaymentRequest.OPEN_STATUSES)
        if request.reviewer_id != user.pk:
            request.reviewer = user
            request.taken_at = timezone.now()
            request.save(update_fields=["reviewer", "taken_at", "updated_at"])
            event_record(
                subject="request",
                subject_id=request.pk,
                action="taken",
                actor=user,
                from_state=request.status,
                to_state=request.status,
            )
    return request


def request_release(*, request_id: int, user: User) -> PaymentRequest:
    with transaction.atomic():
        _, request = _locked(request_id)
        if request.reviewer_id == user.pk:
            request.reviewer = None
            request.taken_at = None
            request.save(update_fields=["reviewer", "taken_at", "updated_at"])
            event_record(
                subject="request",
                subject_id=request.pk,
                action="released",
                actor=user,
                from_state=request.status,
                to_state=request.status,
            )
    return request


def request_ask(*, request_id: int, user: User, question: str) -> PaymentRequest:
    """More information needed: the same request goes back to the partner for amendment;
    the review clock pauses (R-DOC-2, R-REV-1)."""
    question = (question or "").strip()
    if not question:
        raise ApplicationError(
            "Write the question for the partner.",
            rule="R-REV-2",
            fields={"question": ["This field is required."]},
        )
    with transaction.atomic():
        voucher, request = _locked(request_id)
        _require_open(request, user, allowed=(PaymentRequest.Status.SUBMITTED,))
        calendar = BusinessCalendar.for_program(voucher.program)
        request.sla_remaining_days = calendar.between(timezone.localdate(), request.due_by)
        before = request.status
        request.ask()
        request.question = question
        request.reviewer = None
        request.taken_at = None
        request.save()
        event_record(
            subject="request",
            subject_id=request.pk,
            action="info_requested",
            actor=user,
            from_state=before,
            to_state=request.status,
            reason=question,
        )
        _notify_partner(request, decision="info_requested", text=question)
    return request


def request_reject(*, request_id: int, user: User, reason: str) -> PaymentRequest:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(
            "Give the partner the reason for the rejection.",
            rule="R-REV-2",
            fields={"reason": ["This field is required."]},
        )
    with transaction.atomic():
        _, request = _locked(request_id)
        _require_open(request, user, allowed=PaymentRequest.OPEN_STATUSES)
        before = request.status
        request.reject()
        request.rejection_reason = reason
        request.decided_by = user
        request.decided_at = timezone.now()
        request.save()
        event_record(
            subject="request",
            subject_id=request.pk,
            action="rejected",
            actor=user,
            from_state=before,
            to_state=request.status,
            reason=reason,
        )
        _notify_partner(request, decision="rejected", text=reason)
    return request


def combined_cap_room(voucher: Voucher, *, lock: bool = False) -> Decimal | None:
    """R-CAP-4: what may still be paid on this voucher under the combined cap, when the
    customer holds vouchers of more than one group in the program; None otherwise. The
    later deal date of the customer's vouchers decides the row (vouchers.combined).

    `lock`: approving holds the customer's row, so that two reviewers approving the
    M365 and the Copilot voucher at once cannot both spend the same combined room."""
    if lock:
        Customer.objects.select_for_update().filter(pk=voucher.customer_id).exists()
    position = combined_position(voucher)
    return None if position is None else position.room_for(voucher)


def approval_payout(voucher: Voucher, request: PaymentRequest, *, lock: bool = False) -> Payout:
    sow_value = (
        request.sow_value
        if request.kind == PaymentRequest.Kind.INITIAL
        else approved_sow_value(voucher)
    )
    payout = payout_for(
        scheme=voucher.scheme,
        kind=request.kind,
        voucher_value=voucher.value,
        sow_value=sow_value or Decimal("0"),
        paid_before=approved_total(voucher),
    )
    room = combined_cap_room(voucher, lock=lock)
    if room is not None and payout.amount > room:
        payout = Payout(
            amount=room,
            total=payout.total,
            paid_before=payout.paid_before,
            left_after=payout.left_after + payout.amount - room,
            rule="R-CAP-4",
        )
    return payout


def _confirmed(document: RequestDocument | None) -> list[dict[str, Any]]:
    """What the reviewer approved on: each signature's party, name and state (no crops)."""
    if document is None:
        return []
    return [
        {
            key: signature.get(key)
            for key in ("party", "kind", "name", "typed_name", "intact", "trusted", "signed_at")
        }
        for signature in document.signatures
    ]


def request_approve(
    *, request_id: int, user: User, signatures_checked: bool = False
) -> PaymentRequest:
    """Approves once and creates the payment in the partner's currency (R-PAY-1, R-PAY-4).
    A scanned document is approved only once the reviewer confirms that it carries both
    wet-ink signatures (`signatures_checked`, R-DOC-1); the event records what was
    confirmed."""
    with transaction.atomic():
        voucher, request = _locked(request_id)
        _require_open(request, user, allowed=(PaymentRequest.Status.SUBMITTED,))
        document = request.documents.order_by("-version").first()
        scanned = document is not None and document.is_scan
        if scanned and not signatures_checked:
            raise ApplicationError(
                "This document is a scan: confirm that it carries both wet-ink signatures, "
                "the customer's and the partner's, before approving it.",
                rule="R-DOC-1",
                code="signatures_not_checked",
                fields={"signatures_checked": ["Tick it once both signatures are checked."]},
            )
        request.signatures_checked = scanned
        today = timezone.localdate()
        payout = approval_payout(voucher, request, lock=True)
        partner = voucher.partner
        assert partner is not None
        before = request.status
        request.approve()
        request.payout_amount = payout.amount
        request.decided_by = user
        request.decided_at = timezone.now()
        request.save()
        # A zero payout writes no payment; its event records the rate as 1.
        rate = Decimal("1")
        if payout.amount > 0:
            payment = payment_record(
                voucher=voucher,
                partner=partner,
                amount_usd=payout.amount,
                day=today,
                request=request,
            )
            rate = payment.fx_rate
            voucher.refresh_from_db(fields=["paid_total"])
        if request.kind == PaymentRequest.Kind.FINAL:
            voucher.redeem_fully()
            voucher.save(update_fields=["status", "updated_at"])
            event_record(
                subject="voucher",
                subject_id=voucher.pk,
                action="fully_redeemed",
                actor=user,
                from_state=Voucher.Status.CLAIMED,
                to_state=voucher.status,
            )
        event_record(
            subject="request",
            subject_id=request.pk,
            action="approved",
            actor=user,
            from_state=before,
            to_state=request.status,
            data={
                "payout_usd": str(payout.amount),
                "rule": payout.rule,
                "fx_rate": str(rate),
                "currency": partner.currency,
                "document": document.sha256 if document is not None else None,
                "signatures": _confirmed(document),
                "signatures_checked": scanned,
            },
        )
        _notify_partner(request, decision="approved", text=f"${payout.amount:,.2f}")
        _notify_customer(request)
    return request
