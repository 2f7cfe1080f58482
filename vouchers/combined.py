"""R-CAP-4: the combined payout position of a customer holding vouchers of more than one
exclusive group in a program (an M365 voucher beside a Copilot voucher).

Which combined row applies does not depend on the order of issue: **the later deal date of
the customer's vouchers decides**, because the combination exists only from then. Both
vouchers read the same row, so whichever is paid first, the total paid across them never
exceeds that row's combined cap, nor a voucher's paid total its group's part of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from core.money import ZERO
from programs.models import CombinedCapRow, RowStatus
from vouchers.models import Voucher


@dataclass(frozen=True)
class CombinedPart:
    group: str
    voucher_code: str
    offer: str
    deal_date: date
    cap: Decimal | None  # the group's part of the row; None when the row names no part
    paid: Decimal
    partner_id: int | None  # who redeems it: a partner sees another partner's part unpaid

    @property
    def left(self) -> Decimal | None:
        return None if self.cap is None else max(ZERO, self.cap - self.paid)


@dataclass(frozen=True)
class CombinedPosition:
    row_key: str
    row_label: str
    deciding_date: date  # the later deal date of the customer's vouchers
    parts: tuple[CombinedPart, ...]
    combined_cap: Decimal

    @property
    def paid(self) -> Decimal:
        return sum((p.paid for p in self.parts), ZERO)

    @property
    def left(self) -> Decimal:
        return max(ZERO, self.combined_cap - self.paid)

    def part_for(self, voucher: Voucher) -> CombinedPart | None:
        return next((p for p in self.parts if p.voucher_code == voucher.code), None)

    def room_for(self, voucher: Voucher) -> Decimal:
        """What may still be paid on `voucher`: the least of its own unpaid value
        (R-CAP-5), the row's combined room and its part's room."""
        unpaid: Decimal = voucher.value - voucher.paid_total
        room = min(self.left, unpaid)
        part = self.part_for(voucher)
        if part is not None and part.left is not None:
            room = min(room, part.left)
        return max(ZERO, room)


def _deal_date(voucher: Voucher) -> date:
    return voucher.nomination.closed_on or voucher.issued_on


def combined_position(voucher: Voucher) -> CombinedPosition | None:
    """The R-CAP-4 position of `voucher`'s customer in its program, or None when the
    customer holds vouchers of one group only (no combined cap applies) or no combined
    row covers the deciding date."""
    siblings = list(
        Voucher.objects.filter(program_id=voucher.program_id, customer_id=voucher.customer_id)
        .exclude(status=Voucher.Status.CANCELLED)
        .select_related("nomination", "offer")
        .order_by("exclusive_group", "pk")
    )
    if len({v.exclusive_group for v in siblings}) < 2:
        return None
    deciding = max(_deal_date(v) for v in siblings)
    row: CombinedCapRow | None = (
        CombinedCapRow.objects.filter(
            program_id=voucher.program_id,
            status=RowStatus.EFFECTIVE,
            segment=voucher.customer.segment,
            window_start__lte=deciding,
            window_end__gte=deciding,
        )
        .order_by("window_start", "key")
        .first()
    )
    if row is None:
        return None
    parts = tuple(
        CombinedPart(
            group=v.exclusive_group,
            voucher_code=v.code,
            offer=v.offer.code,
            deal_date=_deal_date(v),
            cap=row.part_cap(v.exclusive_group),
            paid=v.paid_total,
            partner_id=v.partner_id,
        )
        for v in siblings
    )
    return CombinedPosition(
        row_key=row.key,
        row_label=row.label,
        deciding_date=deciding,
        parts=parts,
        combined_cap=row.combined_cap,
    )


def position_data(
    position: CombinedPosition, *, voucher: Voucher, viewer_partner: int | None
) -> dict[str, object]:
    """The position as the API shows it. A partner (`viewer_partner`) sees the other part's
    cap but not another partner's voucher or payments, so not the combined totals either."""

    def hidden(part: CombinedPart) -> bool:
        return viewer_partner is not None and part.partner_id != viewer_partner

    parts = [
        {
            "group": p.group,
            "offer": p.offer,
            "voucher": None if hidden(p) else p.voucher_code,
            "part_cap": p.cap,
            "paid": None if hidden(p) else p.paid,
            "left": None if hidden(p) else p.left,
        }
        for p in position.parts
    ]
    partial = any(hidden(p) for p in position.parts)
    return {
        "row": position.row_key,
        "row_label": position.row_label,
        "deciding_date": position.deciding_date,
        "combined_cap": position.combined_cap,
        "paid": None if partial else position.paid,
        "left": None if partial else position.left,
        "payable_on_this_voucher": position.room_for(voucher),
        "parts": parts,
    }


def combined_view(voucher: Voucher, *, viewer_partner: int | None) -> dict[str, object] | None:
    """What the voucher's page, the review screen and the API show of the position: the
    one place the partner's view is cut (`position_data`); None without a combined cap."""
    position = combined_position(voucher)
    if position is None:
        return None
    return position_data(position, voucher=voucher, viewer_partner=viewer_partner)
