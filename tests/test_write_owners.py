"""One owner per write: a voucher row is created only by `vouchers.services.voucher_issue`,
a payment row only by `payments.services.payment_record` (FX at the program rate, half up
to the cent, the voucher's paid total, at most once per request: R-PAY-1, R-PAY-4)."""

from __future__ import annotations

import ast
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest
import time_machine

from core.choices import Role
from core.errors import StateConflict
from core.money import to_local
from partners.models import Partner
from payments.models import FxRate, Payment
from payments.services import payment_record
from redemptions.models import PaymentRequest
from redemptions.services import request_approve
from tests.factories import PartnerFactory, submitted_sow, user_for_role
from vouchers.models import Voucher

ROOT = Path(__file__).resolve().parent.parent
DAY = date(2024, 3, 1)


def _creators(model: str) -> set[str]:
    """The modules of the portal (not tests, not the benchmark) that call
    `<model>.objects.create(...)` or `<model>(...)` followed by a save, by their path."""
    found = set()
    for path in ROOT.glob("*/**/*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in {"tests", "bench", ".venv"} or "migrations" in relative.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"create", "bulk_create", "get_or_create"}
                and isinstance(node.func.value, ast.Attribute)
                and node.func.value.attr == "objects"
                and isinstance(node.func.value.value, ast.Name)
                and node.func.value.value.id == model
            ):
                found.add(str(relative))
    return found


def test_only_voucher_issue_creates_vouchers() -> None:
    assert _creators("Voucher") == {"vouchers/services.py"}


def test_only_payment_record_creates_payments() -> None:
    assert _creators("Payment") == {"payments/services.py"}


def test_the_owner_finder_sees_a_create() -> None:
    assert "payments/services.py" in _creators("Payment")
    assert _creators("NoSuchModel") == set()


@pytest.mark.django_db
def test_no_fx_rate_refuses_the_approval_and_changes_nothing(fy24: Any) -> None:
    """R-PAY-1: without a rate in force for the partner's currency nothing is approved,
    nothing is paid, the voucher's paid total stays."""
    partner_user = user_for_role(Role.PARTNER, partner=PartnerFactory(currency="EUR"))
    with time_machine.travel(DAY, tick=False):
        voucher, request, _ = submitted_sow(fy24, day=DAY, partner_user=partner_user)
        with pytest.raises(StateConflict) as refused:
            request_approve(request_id=request.pk, user=user_for_role(Role.REVIEWER))
    assert (refused.value.rule, refused.value.code) == ("R-PAY-1", "no_fx_rate")
    assert "EUR" in refused.value.message
    request.refresh_from_db()
    assert request.status == PaymentRequest.Status.SUBMITTED
    assert not Payment.objects.exists()
    assert Voucher.objects.get(pk=voucher.pk).paid_total == Decimal("0.00")


@pytest.mark.django_db
def test_a_request_is_paid_once_in_local_currency(fy24: Any) -> None:
    """R-PAY-1, R-PAY-4: the local amount is the USD amount at the rate, half up to the
    cent; recording the same request's payment again is refused and pays nothing more."""
    FxRate.objects.create(currency="EUR", rate_per_usd=Decimal("0.915"), valid_from=DAY)
    partner_user = user_for_role(Role.PARTNER, partner=PartnerFactory(currency="EUR"))
    with time_machine.travel(DAY, tick=False):
        voucher, request, _ = submitted_sow(fy24, day=DAY, partner_user=partner_user)
        payment = payment_record(
            voucher=voucher,
            partner=cast(Partner, partner_user.partner),
            amount_usd=Decimal("333.33"),
            day=DAY,
            request=request,
        )
        with pytest.raises(StateConflict) as again:
            payment_record(
                voucher=voucher,
                partner=cast(Partner, partner_user.partner),
                amount_usd=Decimal("333.33"),
                day=DAY,
                request=request,
            )
    assert (again.value.rule, again.value.code) == ("R-PAY-4", "already_paid")
    assert payment.amount_local == to_local(Decimal("333.33"), Decimal("0.915"))
    assert payment.amount_local == Decimal("305.00")  # 304.99695 half up
    assert (payment.kind, payment.currency, payment.fx_rate) == ("payout", "EUR", Decimal("0.915"))
    assert Payment.objects.count() == 1
    assert Voucher.objects.get(pk=voucher.pk).paid_total == Decimal("333.33")


def test_a_payment_pays_one_request_or_one_dispute() -> None:
    """Neither or both is a programming error, refused before anything is written."""
    with pytest.raises(TypeError):
        payment_record(
            voucher=Voucher(),
            partner=PartnerFactory.build(),
            amount_usd=Decimal("1.00"),
            day=DAY,
        )
