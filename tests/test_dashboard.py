"""The program dashboard: figures equal a hand count on a factory-built data set; charts and
their CSVs carry the same numbers; exports stream, neutralise formulas and respect roles."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any, cast

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from core.choices import Role, Segment
from nominations.services import nomination_approve
from payments.models import FxRate
from programs.models import Program
from programs.services import program_load
from redemptions.services import request_approve, request_reject, request_submit
from reports.selectors import Filters, dashboard
from tests.factories import (
    CustomerFactory,
    PartnerFactory,
    bulk_vouchers,
    issue_voucher,
    module_transaction,
    nominate,
    user_for_role,
)
from tests.signing import signed_template
from vouchers.services import voucher_claim

pytestmark = pytest.mark.django_db
DAY = date(2024, 3, 1)


def _request(voucher: Any, partner: Any, kind: str, sow: str | None = None) -> Any:
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
        customer_signed_on=DAY,
        partner_signer="P",
        partner_signed_on=DAY,
    )


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """Built once for the module (a dozen PDFs rendered, checked and decided); each test's
    changes to it are rolled back with the test."""
    with module_transaction(django_db_blocker):
        yield _build_world()


def _build_world() -> dict[str, Any]:
    program_load(name="fy24")
    fy24 = Program.objects.get(code="FY24-MWSDO")
    FxRate.objects.create(currency="USD", rate_per_usd=Decimal("1"), valid_from=DAY)
    rep, pm, qtm = (
        user_for_role(Role.FIELD_REP),
        user_for_role(Role.PROGRAM_MANAGER),
        user_for_role(Role.REVIEWER),
    )
    partner = user_for_role(Role.PARTNER, partner=PartnerFactory())
    with time_machine.travel(DAY, tick=False):
        ent = [CustomerFactory(segment=Segment.ENTERPRISE, country="US") for _ in range(3)]
        smc = [
            CustomerFactory(segment=Segment.SMC_C, country="BR", category="smc_corporate")
            for _ in range(2)
        ]
        v1 = issue_voucher(fy24, ent[0], rep, pm, purchase_amount=Decimal("300000"))  # 30,000
        v2 = issue_voucher(fy24, ent[1], rep, pm, purchase_amount=Decimal("200000"))  # 20,000
        v3 = issue_voucher(fy24, smc[0], rep, pm, purchase_amount=Decimal("100000"))  # 10,000
        nominate(fy24, ent[2], rep)  # submitted, 40,000 estimated
        approved = nominate(fy24, smc[1], rep, deal_value=Decimal("150000.00"))
        nomination_approve(nomination_id=approved.pk, user=pm)  # approved, 15,000 estimated
        for voucher in (v1, v2, v3):
            voucher_claim(code=voucher.code, user=partner)
        request_approve(
            request_id=_request(v1, partner, "initial", "30000").pk, user=qtm
        )  # pays 15,000
        request_approve(
            request_id=_request(v1, partner, "final").pk, user=qtm
        )  # pays 15,000: fully redeemed
        request_approve(
            request_id=_request(v3, partner, "initial", "8000").pk, user=qtm
        )  # pays 4,000
        request_reject(
            request_id=_request(v2, partner, "initial", "5000").pk, user=qtm, reason="no"
        )
    return {"fy24": fy24, "pm": pm, "rep": rep, "v": (v1, v2, v3)}


def test_figures_equal_a_hand_count(world: dict[str, Any]) -> None:
    with time_machine.travel(DAY, tick=False):
        board = dashboard(Filters(), today=DAY)
    stages = {s.key: (s.count, s.money) for s in board.stages}
    # Estimated at nomination (deal 400,000 unless given): 40k, 40k, SMC-C capped 25k, 40k, 15k.
    assert stages["nominated"] == (5, Decimal("160000.00"))
    assert stages["approved"] == (4, Decimal("120000.00"))
    assert stages["issued"] == (3, Decimal("60000.00"))
    assert stages["claimed"] == (3, Decimal("60000.00"))
    assert stages["sow_approved"] == (2, Decimal("40000.00"))
    assert stages["fully_redeemed"] == (1, Decimal("30000.00"))
    assert board.committed == Decimal("60000.00")
    assert board.approved_payouts == Decimal("34000.00") and board.paid == Decimal("0.00")
    assert board.by_segment == [("enterprise", Decimal("30000.00")), ("smc_c", Decimal("4000.00"))]
    assert board.by_country == [("BR", Decimal("4000.00")), ("US", Decimal("30000.00"))]
    assert board.by_month == [("2024-03", Decimal("34000.00"))]
    assert (board.decided, board.within_sla) == (4, 4)
    assert board.median_days == 0.0
    smc_only = dashboard(Filters(segment="smc_c"), today=DAY)
    assert {s.key: s.count for s in smc_only.stages}["issued"] == 1


def test_at_risk_windows(world: dict[str, Any]) -> None:
    # v2 expires 1 Sep, 43 days on: its only request was rejected, which is no redemption
    # (R-VOU-8), so it is at risk; v3 has an approved SOW and v1 is fully redeemed.
    with time_machine.travel(date(2024, 7, 20), tick=False):
        board = dashboard(Filters(), today=date(2024, 7, 20))
    assert board.expiring == [
        (30, 0, Decimal("0.00")),
        (60, 1, Decimal("20000.00")),
        (90, 1, Decimal("20000.00")),
    ]
    bulk_vouchers(world["fy24"], 4, issued_on=DAY, expires_on=date(2024, 8, 10), contacts=False)
    board = dashboard(Filters(), today=date(2024, 7, 20))
    assert board.expiring[0] == (30, 4, Decimal("40000.00")) and board.expiring[2][1] == 5


def test_page_charts_and_csv_agree(world: dict[str, Any]) -> None:
    client = Client()
    client.force_login(world["pm"])
    page = client.get("/dashboard/").content.decode()
    assert "<svg" in page and "$34,000" in page and "Funnel" in page
    rows = list(
        csv.reader(
            io.StringIO(
                b"".join(cast(Any, client.get("/dashboard/segment.csv")).streaming_content).decode()
            )
        )
    )
    assert rows == [["segment", "usd"], ["enterprise", "30000.00"], ["smc_c", "4000.00"]]
    funnel = list(
        csv.reader(
            io.StringIO(
                b"".join(cast(Any, client.get("/dashboard/funnel.csv")).streaming_content).decode()
            )
        )
    )
    assert funnel[3] == ["issued", "3", "60000.00"]


def test_exports_stream_filter_and_neutralise(world: dict[str, Any]) -> None:
    world["v"][0].customer.__class__.objects.filter(pk=world["v"][0].customer_id).update(
        name="=HYPERLINK(1)"
    )
    client = Client()
    client.force_login(world["pm"])
    response = client.get("/exports/vouchers.csv?segment=enterprise")
    assert response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(cast(Any, response).streaming_content).decode())))
    assert len(rows) == 3 and rows[0][0] == "code"
    assert "'=HYPERLINK(1)" in [r[3] for r in rows]
    for kind in ("nominations", "requests", "payments"):
        assert client.get(f"/exports/{kind}.csv").status_code == 200


@pytest.mark.parametrize("role", [Role.FIELD_REP, Role.REVIEWER, Role.CUSTOMER, Role.PARTNER])
def test_dashboard_and_exports_are_for_program_managers(world: dict[str, Any], role: str) -> None:
    client = Client()
    client.force_login(user_for_role(role))
    for path in ("/dashboard/", "/dashboard/funnel.csv", "/exports/vouchers.csv"):
        assert client.get(path).status_code == 404


def test_rep_board_shows_where_each_voucher_is_stuck(world: dict[str, Any]) -> None:
    client = Client()
    client.force_login(world["rep"])
    with time_machine.travel(date(2024, 3, 11), tick=False):
        page = client.get("/my-vouchers/").content.decode()
    assert (
        "Fully redeemed" in page
        and "SOW approved, POE not submitted" in page
        and "rejected" in page
    )
    other = Client()
    other.force_login(user_for_role(Role.FIELD_REP))
    assert world["v"][0].code not in other.get("/my-vouchers/").content.decode()


def test_dashboard_queries_do_not_grow(
    world: dict[str, Any], django_assert_num_queries: Any
) -> None:
    client = Client()
    client.force_login(world["pm"])
    client.get("/dashboard/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get("/dashboard/")
    bulk_vouchers(world["fy24"], 200, issued_on=DAY, expires_on=date(2024, 9, 1), contacts=False)
    with django_assert_num_queries(len(small.captured_queries)):
        client.get("/dashboard/")
