"""What an approval pays (R-RED-2, R-RED-4, R-PUB-1, R-PUB-2, R-CAP-5).

Amounts are USD with two decimals. Commercial: the initial payment is half of
min(voucher value, SOW value) rounded down to the cent, the final payment the rest, so
the two always add up to exactly the total. Public sector: nothing on the SOW, the whole
total on the POE. Never above the voucher value, never negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.money import ZERO, cents_down


@dataclass(frozen=True)
class Payout:
    amount: Decimal  # what this approval pays
    total: Decimal  # min(voucher value, SOW value)
    paid_before: Decimal
    left_after: Decimal  # what is left to pay after this approval
    rule: str


def payout_total(*, voucher_value: Decimal, sow_value: Decimal) -> Decimal:
    """R-DOC-3: payment uses the lesser of the voucher value and the SOW value."""
    return cents_down(max(ZERO, min(voucher_value, sow_value)))


def payout_for(
    *,
    scheme: str,
    kind: str,
    voucher_value: Decimal,
    sow_value: Decimal,
    paid_before: Decimal = ZERO,
) -> Payout:
    total = payout_total(voucher_value=voucher_value, sow_value=sow_value)
    if scheme == "public_sector":
        amount = ZERO if kind == "initial" else total - paid_before
        rule = "R-PUB-1" if kind == "initial" else "R-PUB-2"
    elif kind == "initial":
        amount = cents_down(total / 2)
        rule = "R-RED-2"
    else:
        amount = total - paid_before
        rule = "R-RED-4"
    amount = max(ZERO, min(amount, voucher_value - paid_before))  # R-CAP-5
    return Payout(
        amount=amount,
        total=total,
        paid_before=paid_before,
        left_after=total - paid_before - amount,
        rule=rule,
    )
