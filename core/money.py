"""Money is Decimal USD or local currency, to the cent. One rounding helper per rule:

- payouts and voucher values are never rounded up (R-CAP-*, R-PAY-*): `cents_down`;
- a local amount converts the USD amount at the program FX rate, half up (R-PAY-1):
  `to_local`."""

from __future__ import annotations

import re
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents_down(amount: Decimal) -> Decimal:
    """`amount` to the cent, never more than it: 12.349 -> 12.34."""
    return amount.quantize(CENT, rounding=ROUND_DOWN)


def to_local(amount_usd: Decimal, rate: Decimal) -> Decimal:
    """The local amount of `amount_usd` at `rate` units per USD, half up to the cent."""
    return (amount_usd * rate).quantize(CENT, rounding=ROUND_HALF_UP)


# The largest amount a money column holds (MoneyField: 14 digits, 2 of them decimals).
MONEY_MAX = Decimal("999999999999.99")


class MoneyFormatError(ValueError):
    """An amount that is not a finite number of USD (or local currency) to the cent."""


def parse_money(text: object, *, allow_negative: bool = False) -> Decimal:
    """The one parser of money typed by a person or sent by a client, for the API and the
    pages alike: a finite decimal with at most two decimals, within the money columns'
    range. "1,250.00", "$1250" and " 1250 " are read; NaN, Infinity, 1e400, "12.345",
    "" and anything else raise MoneyFormatError with a sentence for the field."""
    if isinstance(text, Decimal):
        amount = text
    else:
        if isinstance(text, bool) or not isinstance(text, str | int | float):
            raise MoneyFormatError("Enter an amount like 1250.00.")
        cleaned = str(text).strip().replace("$", "").replace("\u00a0", "").replace(" ", "")
        if "," in cleaned and re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", cleaned):
            cleaned = cleaned.replace(",", "")
        if not re.fullmatch(r"-?(\d+(\.\d*)?|\.\d+)", cleaned):
            raise MoneyFormatError("Enter an amount like 1250.00.")
        amount = Decimal(cleaned)
    if not amount.is_finite():
        raise MoneyFormatError("Enter a finite amount like 1250.00.")
    if amount != amount.quantize(CENT, rounding=ROUND_DOWN):
        raise MoneyFormatError("Use at most two decimals (cents).")
    if amount < 0 and not allow_negative:
        raise MoneyFormatError("The amount cannot be negative.")
    if abs(amount) > MONEY_MAX:
        raise MoneyFormatError(f"The amount cannot be more than {MONEY_MAX:,}.")
    return amount.quantize(CENT)
