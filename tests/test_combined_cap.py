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
from django.test import Client
from rest_framework.test import APIClient

from core.choices import Role, Segment
from nominations.services import nomination_approve, nomination_close_deal, nomination_create
from partners.models import Partner
from payments.models import Payment
from payments.services import statement_for
from redemptions.services import request_approve, request_submit
from tests.factories import CustomerFactory, PartnerFactory, user_for_role
from tests.signing import signed_template
from vouchers.combined import combined_position
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


def _request(
    voucher: Any, partner: Any, kind: str, sow: str | None = None, signed: date = date(2024, 4, 2)
) -> Any:
    return request_submit(
        voucher_id=voucher.pk,
        user=partner,
        kind=kind,
        sow_value=Decimal(sow) if sow else None,
        upload=SimpleUploadedFile(
            "s.pdf",
            signed_template(voucher=voucher, kind="sow" if kind == "initial" else "poe"),
        ),
        customer_signer="C",
        customer_signed_on=signed,
        partner_signer="P",
        partner_signed_on=signed,
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


# -- which combined row applies: the later deal date decides ----------------------------------


SIGNED = date(2024, 4, 20)


def _issue_closed(
    fy24: Any,
    customer: Any,
    staff: dict[str, Any],
    offer: str,
    workloads: list[str],
    amount: str,
    closed_on: date,
) -> Any:
    with time_machine.travel(date(2023, 12, 1), tick=False):
        nomination = nomination_create(
            user=staff["rep"],
            program=fy24,
            customer=customer,
            offer=offer,
            workloads=workloads,
            deal_value=Decimal(amount),
            expected_close_date=closed_on,
        )
        nomination_approve(nomination_id=nomination.pk, user=staff["pm"])
    with time_machine.travel(closed_on, tick=False):
        return nomination_close_deal(
            nomination_id=nomination.pk,
            user=staff["pm"],
            closed_on=closed_on,
            purchase_amount=Decimal(amount),
        )


def _redeem(voucher: Any, partner: Any, reviewer: Any, sow: str) -> Decimal:
    """Claims, and has the SOW and the POE approved; returns the voucher's paid total."""
    with time_machine.travel(date(2024, 4, 20), tick=False):
        voucher_claim(code=voucher.code, user=partner)
        request_approve(
            request_id=_request(voucher, partner, "initial", sow, SIGNED).pk, user=reviewer
        )
        request_approve(
            request_id=_request(voucher, partner, "final", None, SIGNED).pk, user=reviewer
        )
    voucher.refresh_from_db()
    return cast(Decimal, voucher.paid_total)


@pytest.fixture
def staff(db: None) -> dict[str, Any]:
    return {
        "rep": user_for_role(Role.FIELD_REP),
        "pm": user_for_role(Role.PROGRAM_MANAGER),
        "reviewer": user_for_role(Role.REVIEWER),
    }


@pytest.mark.parametrize("copilot_paid_first", [True, False], ids=["copilot-first", "m365-first"])
def test_the_later_deal_date_decides_the_combined_row_whatever_is_paid_first(
    fy24: Any, staff: dict[str, Any], copilot_paid_first: bool
) -> None:
    """R-CAP-4: an M365 deal closed 2024-01-15 (row "before 2024-02-05": 125,000 combined)
    and a Copilot deal closed 2024-04-10 (row "from 2024-04-01": 190,000). The combination
    exists only from 2024-04-10, so both vouchers read the 190,000 row, and the M365
    voucher is paid in full (75,000) even when the Copilot voucher (95,000) was paid first."""
    customer = CustomerFactory(segment=Segment.ENTERPRISE)
    m365 = _issue_closed(
        fy24, customer, staff, "DEPLOY", ["M365_E3"], "750000.00", date(2024, 1, 15)
    )
    copilot = _issue_closed(
        fy24, customer, staff, "COPILOT", ["M365_COPILOT"], "950000.00", date(2024, 4, 10)
    )
    assert (m365.value, copilot.value) == (Decimal("75000.00"), Decimal("95000.00"))
    for voucher in (m365, copilot):
        position = combined_position(voucher)
        assert position is not None
        assert position.row_key == "ent-from-apr1"
        assert position.deciding_date == date(2024, 4, 10)
        assert position.combined_cap == Decimal("190000")

    first, second = (copilot, m365) if copilot_paid_first else (m365, copilot)
    partners = [user_for_role(Role.PARTNER, partner=PartnerFactory()) for _ in range(2)]
    assert _redeem(first, partners[0], staff["reviewer"], "2000000") == first.value
    assert _redeem(second, partners[1], staff["reviewer"], "2000000") == second.value

    position = combined_position(m365)
    assert position is not None
    assert position.paid == Decimal("170000.00") and position.left == Decimal("20000.00")
    part = position.part_for(m365)
    assert part is not None and part.cap == Decimal("95000") and part.left == Decimal("20000.00")
    assert position.room_for(copilot) == Decimal("0.00")


def test_the_combined_row_binds_whichever_voucher_is_paid_first(
    fy24: Any, staff: dict[str, Any]
) -> None:
    """SMC-C, both deals before 2024-02-05: 50,000 combined over an M365 voucher of 25,000
    and a Copilot voucher of 50,000. Whichever is paid first, the second gets what is left."""
    customer = CustomerFactory(segment=Segment.SMC_C, category="smc_corporate")
    m365 = _issue_closed(
        fy24, customer, staff, "DEPLOY", ["M365_E3"], "250000.00", date(2024, 1, 10)
    )
    copilot = _issue_closed(
        fy24, customer, staff, "COPILOT", ["M365_COPILOT"], "500000.00", date(2024, 1, 20)
    )
    position = combined_position(copilot)
    assert position is not None and position.row_key == "smc-before-feb5"
    assert position.combined_cap == Decimal("100000")
    partners = [user_for_role(Role.PARTNER, partner=PartnerFactory()) for _ in range(2)]
    paid = _redeem(copilot, partners[0], staff["reviewer"], "500000")
    paid += _redeem(m365, partners[1], staff["reviewer"], "500000")
    assert paid == Decimal("75000.00")  # 50,000 + 25,000: within 100,000


def test_combined_position_on_both_voucher_pages_and_the_review_screen(
    fy24: Any, staff: dict[str, Any]
) -> None:
    customer = CustomerFactory(segment=Segment.ENTERPRISE, name="Northwind")
    contact = user_for_role(Role.CUSTOMER, customer=customer)
    m365 = _issue_closed(
        fy24, customer, staff, "DEPLOY", ["M365_E3"], "750000.00", date(2024, 1, 15)
    )
    copilot = _issue_closed(
        fy24, customer, staff, "COPILOT", ["M365_COPILOT"], "950000.00", date(2024, 4, 10)
    )
    partner = user_for_role(Role.PARTNER, partner=PartnerFactory())
    other = user_for_role(Role.PARTNER, partner=PartnerFactory())
    _redeem(copilot, other, staff["reviewer"], "2000000")
    with time_machine.travel(date(2024, 4, 20), tick=False):
        voucher_claim(code=m365.code, user=partner)
        pending = _request(m365, partner, "initial", "100000", SIGNED)
        pages = {}
        for name, user, path in [
            ("customer-m365", contact, f"/vouchers/{m365.code}/"),
            ("customer-copilot", contact, f"/vouchers/{copilot.code}/"),
            ("partner", partner, f"/vouchers/{m365.code}/"),
            ("reviewer", staff["reviewer"], f"/review/{pending.pk}/"),
        ]:
            client = Client()
            client.force_login(user)
            response = client.get(path)
            assert response.status_code == 200, (name, response.status_code)
            pages[name] = response.content.decode()
    for name in ("customer-m365", "customer-copilot", "reviewer"):
        html = pages[name]
        assert "Combined cap" in html and "R-CAP-4" in html, name
        assert "Enterprise, deals from 2024-04-01" in html and "10 Apr 2024" in html
        assert "$190,000.00" in html and "$95,000.00" in html  # combined cap, paid so far
        assert m365.code in html and copilot.code in html
        assert "$95,000.00" in html.split("Combined</th>")[1]  # paid across both, left
    assert "Still payable on this voucher: $75,000.00" in pages["customer-m365"]
    assert "Still payable on this voucher: $0.00" in pages["customer-copilot"]
    # The M365 partner sees the Copilot part's cap, not another partner's voucher or payments.
    assert "redeemed by another partner" in pages["partner"]
    assert copilot.code not in pages["partner"]
    assert "Still payable on this voucher: $75,000.00" in pages["partner"]


def test_combined_position_through_the_api_and_approvals_in_either_order(
    fy24: Any, staff: dict[str, Any]
) -> None:
    """R-CAP-4 through the REST API: both vouchers report the row of the later deal date,
    the reviewer's approvals of the Copilot voucher first leave the M365 voucher its whole
    75,000, and a partner sees its own part but not the other partner's."""
    customer = CustomerFactory(segment=Segment.ENTERPRISE)
    contact = user_for_role(Role.CUSTOMER, customer=customer)
    m365 = _issue_closed(
        fy24, customer, staff, "DEPLOY", ["M365_E3"], "750000.00", date(2024, 1, 15)
    )
    copilot = _issue_closed(
        fy24, customer, staff, "COPILOT", ["M365_COPILOT"], "950000.00", date(2024, 4, 10)
    )
    api = APIClient()
    api.force_authenticate(contact)
    for voucher in (m365, copilot):
        body = api.get(f"/api/v1/vouchers/{voucher.code}/combined-cap/").json()
        assert body["row"] == "ent-from-apr1" and body["deciding_date"] == "2024-04-10"
        assert body["combined_cap"] == "190000.00" and body["left"] == "190000.00"
        assert {p["voucher"] for p in body["parts"]} == {m365.code, copilot.code}

    reviewer = APIClient()
    reviewer.force_authenticate(staff["reviewer"])
    partners = [user_for_role(Role.PARTNER, partner=PartnerFactory()) for _ in range(2)]
    with time_machine.travel(SIGNED, tick=False):
        for voucher, partner in ((copilot, partners[0]), (m365, partners[1])):
            voucher_claim(code=voucher.code, user=partner)
            for kind, sow in (("initial", "2000000"), ("final", None)):
                pending = _request(voucher, partner, kind, sow, SIGNED)
                approved = reviewer.post(f"/api/v1/requests/{pending.pk}/approve/")
                assert approved.status_code == 200, approved.json()
    m365.refresh_from_db()
    assert m365.paid_total == Decimal("75000.00")  # not 125,000 - 95,000 = 30,000

    mine = APIClient()
    mine.force_authenticate(partners[1])
    body = mine.get(f"/api/v1/vouchers/{m365.code}/combined-cap/").json()
    own_part = next(p for p in body["parts"] if p["group"] == "m365")
    other = next(p for p in body["parts"] if p["group"] == "copilot")
    assert own_part["voucher"] == m365.code and own_part["paid"] == "75000.00"
    assert other == {
        "group": "copilot",
        "offer": "COPILOT",
        "voucher": None,
        "part_cap": "95000.00",
        "paid": None,
        "left": None,
    }
    assert body["paid"] is None and body["payable_on_this_voucher"] == "0.00"


def test_no_combined_cap_answers_204(fy24: Any, staff: dict[str, Any]) -> None:
    customer = CustomerFactory(segment=Segment.ENTERPRISE)
    contact = user_for_role(Role.CUSTOMER, customer=customer)
    m365 = _issue_closed(
        fy24, customer, staff, "DEPLOY", ["M365_E3"], "750000.00", date(2024, 1, 15)
    )
    api = APIClient()
    api.force_authenticate(contact)
    assert api.get(f"/api/v1/vouchers/{m365.code}/combined-cap/").status_code == 204
