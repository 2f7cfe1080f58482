"""What a voucher's pages show of its redemption: the partner's next step, the payment
requests and the request form. The voucher pages (vouchers.pages) are the one place
vouchers reaches up into redemptions, and only through this module, which imports no page,
so the two page modules never import each other in a loop."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from core.scopes import has_scope
from redemptions.forms import RequestForm
from redemptions.models import PaymentRequest
from redemptions.selectors import next_step
from vouchers.expiry import voucher_expired
from vouchers.models import Voucher

if TYPE_CHECKING:
    from accounts.models import User


def partner_next_steps(vouchers: Iterable[Voucher]) -> list[tuple[Voucher, str]]:
    """Each voucher with the partner's next step on it (claimed vouchers only, and none once
    expired, R-VOU-2). The caller prefetches `payment_requests`."""
    today = timezone.localdate()
    return [
        (
            v,
            next_step(v)[1]
            if v.status == Voucher.Status.CLAIMED and not voucher_expired(v, today=today)
            else "",
        )
        for v in vouchers
    ]


def redemption_context(
    *, user: User, voucher: Voucher, request_form: RequestForm | None = None
) -> dict[str, Any]:
    """The voucher page's redemption part: the requests the user may read, whether this user
    redeems the voucher, the next step and the form for it."""
    today = timezone.localdate()
    requests = (
        list(voucher.payment_requests.order_by("submitted_at"))
        if has_scope(user, "requests:read")
        else []
    )
    step, step_text = next_step(voucher)
    redeeming = (
        has_scope(user, "requests:submit")
        and voucher.status == Voucher.Status.CLAIMED
        and voucher.partner_id == user.partner_id
    )
    kind = PaymentRequest.Kind.FINAL if step == "final" else PaymentRequest.Kind.INITIAL
    return {
        "requests": requests,
        "redeeming": redeeming,
        "next_step": step_text,
        "can_submit": redeeming
        and step in ("initial", "final")
        and not voucher_expired(voucher, today=today),
        "request_form": request_form or RequestForm(initial={"kind": kind}),
        "request_kind": request_form.data.get("kind", kind) if request_form else kind,
    }
