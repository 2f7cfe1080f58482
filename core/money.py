"""Money is Decimal USD or local currency, to the cent. One rounding helper per rule:

- payouts and voucher values are never rounded up (R-CAP-*, R-PAY-*): `cents_down`;
- a local amount converts the USD amount at the program FX rate, half up (R-PAY-1):
  `to_local`."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents_down(amount: Decimal) -> Decimal:
    """`amount` to the cent, never more than it: 12.349 -> 12.34."""
    return amount.quantize(CENT, rounding=ROUND_DOWN)


def to_local(amount_usd: Decimal, rate: Decimal) -> Decimal:
    """The local amount of `amount_usd` at `rate` units per USD, half up to the cent."""
    return (amount_usd * rate).quantize(CENT, rounding=ROUND_HALF_UP)
