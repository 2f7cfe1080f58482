"""R-VOU-2: when a voucher counts as expired, and the one refusal every action on an expired
voucher gives.

The nightly `expire_vouchers` job marks issued and claimed vouchers past their date as
expired, but until it has run such a voucher is still issued or claimed: every check goes
through `voucher_expired`, so a claim, a forward, a decline, an extension, a payment
request, an amendment or a template download on an expired voucher is refused citing
R-VOU-2 with the expiry date, never another rule, whether or not the job ran. A fully
redeemed or cancelled voucher is not expired: its own state says why nothing more can be
done with it.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Q
from django.utils import timezone

from core.errors import StateConflict
from core.words import date_text
from vouchers.models import Voucher

# The states the nightly job expires (vouchers.reminders.expire_vouchers).
EXPIRING_STATUSES = (Voucher.Status.ISSUED, Voucher.Status.CLAIMED)


def voucher_expired(voucher: Voucher, *, today: date | None = None) -> bool:
    """R-VOU-2: marked expired by the job, or issued or claimed and past its expiry date
    (requests may be submitted on the expiry date itself)."""
    if voucher.status == Voucher.Status.EXPIRED:
        return True
    today = today or timezone.localdate()
    return voucher.status in EXPIRING_STATUSES and today > voucher.expires_on


def not_expired(today: date) -> Q:
    """`not voucher_expired(v, today=today)` as a queryset filter."""
    return ~Q(status=Voucher.Status.EXPIRED) & ~Q(
        status__in=EXPIRING_STATUSES, expires_on__lt=today
    )


def expired_refusal(voucher: Voucher, consequence: str) -> StateConflict:
    """The R-VOU-2 refusal: "This voucher expired on 01 Sep 2024; <consequence>"."""
    return StateConflict(
        f"This voucher expired on {date_text(voucher.expires_on)}; {consequence}",
        rule="R-VOU-2",
        code="expired",
    )


def refuse_if_expired(voucher: Voucher, consequence: str, *, today: date | None = None) -> None:
    """Raises `expired_refusal` when the voucher is expired (`voucher_expired`)."""
    if voucher_expired(voucher, today=today):
        raise expired_refusal(voucher, consequence)
