"""Payout arithmetic (R-RED-2, R-RED-4, R-PUB-1, R-PUB-2, R-CAP-5) as properties."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from redemptions.payouts import payout_for

money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500000.00"), places=2)


@given(value=money, sow=money)
def test_commercial_parts_add_up_to_the_lesser_value(value: Decimal, sow: Decimal) -> None:
    initial = payout_for(scheme="commercial", kind="initial", voucher_value=value, sow_value=sow)
    final = payout_for(
        scheme="commercial",
        kind="final",
        voucher_value=value,
        sow_value=sow,
        paid_before=initial.amount,
    )
    assert initial.amount + final.amount == min(value, sow)
    assert Decimal("0") <= initial.amount <= final.amount <= initial.amount + Decimal("0.01")
    assert initial.amount + final.amount <= value  # R-CAP-5
    assert final.left_after == 0
    for amount in (initial.amount, final.amount):
        assert amount == amount.quantize(Decimal("0.01"))


@given(value=money, sow=money)
def test_public_sector_pays_everything_on_the_poe(value: Decimal, sow: Decimal) -> None:
    initial = payout_for(scheme="public_sector", kind="initial", voucher_value=value, sow_value=sow)
    final = payout_for(scheme="public_sector", kind="final", voucher_value=value, sow_value=sow)
    assert initial.amount == 0 and initial.rule == "R-PUB-1"
    assert final.amount == min(value, sow) and final.rule == "R-PUB-2"


@given(value=money, sow=money, paid=money)
def test_never_negative_and_never_above_what_is_left(
    value: Decimal, sow: Decimal, paid: Decimal
) -> None:
    payout = payout_for(
        scheme="commercial", kind="final", voucher_value=value, sow_value=sow, paid_before=paid
    )
    assert Decimal("0") <= payout.amount <= max(Decimal("0"), value - paid)


def test_cent_edges() -> None:
    one_cent = payout_for(
        scheme="commercial", kind="initial", voucher_value=Decimal("0.01"), sow_value=Decimal("1")
    )
    assert one_cent.amount == Decimal("0.00") and one_cent.left_after == Decimal("0.01")
    odd = payout_for(
        scheme="commercial",
        kind="initial",
        voucher_value=Decimal("75000.00"),
        sow_value=Decimal("33333.33"),
    )
    assert odd.amount == Decimal("16666.66") and odd.left_after == Decimal("16666.67")
