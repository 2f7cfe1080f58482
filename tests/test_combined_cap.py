"""R-CAP-4: with a Copilot voucher beside an M365 voucher, the total paid never exceeds
the combined row, nor the group's part of it; statements add up to the payments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, cast

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum

from core.choices import Role, Segment
from nominations.services import nomination_approve, nomination_close_deal, nomination_create
from partners.models import Partner
from payments.models import Payment
from payments.services import statement_for
from redemptions.services import request_approve, request_submit
from redemptions.template_pdfs import render_template_pdf
from tests.factories import CustomerFactory, PartnerFactory, user_for_role
from vouchers.services import voucher_claim

pytestmark = pytest.mark.django_db


def _issue(
    fy24: Any, customer: Any, rep: Any, pm: Any, offer: str, workloads: list[str], amount: str
) -> Any:
    with time_machine.travel(date(2024, 3, 1), tick=False):
        nomination = nomination_create(
            user=rep,
            program=fy24,
            customer=customer,
            offer=offer,
            workloads=workloads,
            deal_value=Decimal(amount),
            expected_close_date=date(2024, 4, 5),
        )
        nomination_approve(nomination_id=nomination.pk, user=pm)
    with time_machine.travel(date(2024, 4, 2), tick=False):  # issued in Q4, deal closed in March
        return nomination_close_deal(
            nomination_id=nomination.pk,
            user=pm,
            closed_on=date(2024, 3, 20),
            purchase_amount=Decimal(amount),
        )


def _request(voucher: Any, partner: Any, kind: str, sow: str | None = None) -> Any:
    return request_submit(
        voucher_id=voucher.pk,
        user=partner,
        kind=kind,
        sow_value=Decimal(sow) if sow else None,
        upload=SimpleUploadedFile(
            "s.pdf",
            render_template_pdf(voucher=voucher, kind="sow" if kind == "initial" else "poe"),
        ),
        customer_signer="C",
        customer_signed_on=date(2024, 4, 2),
        partner_signer="P",
        partner_signed_on=date(2024, 4, 2),
    )


def test_m365_part_of_the_combined_row_limits_the_final_payment(fy24: Any) -> None:
    customer = CustomerFactory(segment=Segment.ENTERPRISE)
    rep, pm, reviewer = (
        user_for_role(Role.FIELD_REP),
        user_for_role(Role.PROGRAM_MANAGER),
        user_for_role(Role.REVIEWER),
    )
    deploy = _issue(fy24, customer, rep, pm, "DEPLOY", ["M365_E3"], "800000.00")
    assert (
        deploy.value == Decimal("80000.00") and "Q4" in deploy.cap_row
    )  # the Q4 issued row: cap 95,000
    copilot = _issue(fy24, customer, rep, pm, "COPILOT", ["M365_COPILOT"], "900000.00")
    assert copilot.cap == Decimal("75000.00")  # the Copilot part for deals 2024-02-05..2024-03-31
    partner = user_for_role(Role.PARTNER, partner=PartnerFactory())
    with time_machine.travel(date(2024, 4, 2), tick=False):
        voucher_claim(code=deploy.code, user=partner)
        first = request_approve(
            request_id=_request(deploy, partner, "initial", "100000").pk, user=reviewer
        )
        assert first.payout_amount == Decimal("40000.00")
        final = request_approve(request_id=_request(deploy, partner, "final").pk, user=reviewer)
    # 40,000 more would bring M365 to 80,000; its part of the combined row is 75,000.
    assert final.payout_amount == Decimal("35000.00")
    deploy.refresh_from_db()
    assert deploy.paid_total == Decimal("75000.00")


def test_without_a_second_group_no_combined_cap_applies(fy24: Any) -> None:
    customer = CustomerFactory(segment=Segment.ENTERPRISE)
    rep, pm, reviewer = (
        user_for_role(Role.FIELD_REP),
        user_for_role(Role.PROGRAM_MANAGER),
        user_for_role(Role.REVIEWER),
    )
    deploy = _issue(fy24, customer, rep, pm, "DEPLOY", ["M365_E3"], "800000.00")
    partner = user_for_role(Role.PARTNER, partner=PartnerFactory())
    with time_machine.travel(date(2024, 4, 2), tick=False):
        voucher_claim(code=deploy.code, user=partner)
        request_approve(request_id=_request(deploy, partner, "initial", "100000").pk, user=reviewer)
        final = request_approve(request_id=_request(deploy, partner, "final").pk, user=reviewer)
    assert final.payout_amount == Decimal("40000.00")

    statement = statement_for(partner=cast(Partner, partner.partner), period="2024-04")
    payments = Payment.objects.filter(
        partner=partner.partner, approved_on__year=2024, approved_on__month=4
    )
    assert (
        statement.total_usd == payments.aggregate(s=Sum("amount_usd"))["s"] == Decimal("80000.00")
    )
    assert statement.total_local == payments.aggregate(s=Sum("amount_local"))["s"]
    assert len(statement.lines) == payments.count() == 2
