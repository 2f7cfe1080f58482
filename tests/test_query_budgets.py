"""Query budgets: every list page and list endpoint runs the same number of queries at two
data sizes, so an N+1 cannot land."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core.choices import Role
from payments.models import FxRate
from redemptions.services import request_approve, request_submit
from tests.factories import CustomerFactory, PartnerFactory, issue_voucher, nominate, user_for_role
from tests.signing import signed_template
from vouchers.services import voucher_claim

pytestmark = pytest.mark.django_db
DAY = date(2024, 3, 1)


@pytest.fixture
def world(fy24: Any) -> dict[str, Any]:
    FxRate.objects.create(currency="USD", rate_per_usd=Decimal("1"), valid_from=DAY)
    people = {
        "rep": user_for_role(Role.FIELD_REP),
        "pm": user_for_role(Role.PROGRAM_MANAGER),
        "qtm": user_for_role(Role.REVIEWER),
        "partner": user_for_role(Role.PARTNER, partner=PartnerFactory()),
    }
    customer = CustomerFactory()
    people["customer"] = user_for_role(Role.CUSTOMER, customer=customer)
    return {"fy24": fy24, "customer_org": customer, **people}


def grow(world: dict[str, Any], count: int) -> None:
    """`count` more customers, each with a voucher claimed by the partner, a SOW approved
    (so a payment exists) and a second, open nomination."""
    with time_machine.travel(DAY, tick=False):
        for _ in range(count):
            customer = CustomerFactory()
            voucher = issue_voucher(world["fy24"], customer, world["rep"], world["pm"])
            nominate(
                world["fy24"], customer, world["rep"], offer="COPILOT", workloads=["M365_COPILOT"]
            )
            voucher_claim(code=voucher.code, user=world["partner"])
            request = request_submit(
                voucher_id=voucher.pk,
                user=world["partner"],
                kind="initial",
                sow_value=Decimal("1000"),
                upload=SimpleUploadedFile("s.pdf", signed_template(voucher=voucher, kind="sow")),
                customer_signer="C",
                customer_signed_on=DAY,
                partner_signer="P",
                partner_signed_on=DAY,
            )
            request_approve(request_id=request.pk, user=world["qtm"])
        # and one open request per size step for the queue
        voucher = issue_voucher(world["fy24"], CustomerFactory(), world["rep"], world["pm"])
        voucher_claim(code=voucher.code, user=world["partner"])
        request_submit(
            voucher_id=voucher.pk,
            user=world["partner"],
            kind="initial",
            sow_value=Decimal("1000"),
            upload=SimpleUploadedFile("s.pdf", signed_template(voucher=voucher, kind="sow")),
            customer_signer="C",
            customer_signed_on=DAY,
            partner_signer="P",
            partner_signed_on=DAY,
        )


CASES = [
    ("pm", "/api/v1/vouchers/"),
    ("pm", "/api/v1/nominations/"),
    ("qtm", "/api/v1/requests/"),
    ("qtm", "/api/v1/review-queue/"),
    ("partner", "/api/v1/payments/"),
    ("pm", "/api/v1/customers/"),
    ("pm", "/api/v1/partners/"),
    ("pm", "/api/v1/users/"),
    ("partner", "/api/v1/vouchers/"),
    ("pm", "/vouchers/"),
    ("partner", "/vouchers/"),
    ("rep", "/nominations/?status=all"),
    ("pm", "/nominations/?status=all"),
    ("qtm", "/review/"),
    ("partner", "/payments/"),
    ("pm", "/payments/"),
    ("rep", "/my-vouchers/"),
    ("pm", "/mail/"),
    ("pm", "/dashboard/"),
    ("qtm", "/disputes/?status=open"),
    ("partner", "/"),
    ("pm", "/"),
    ("rep", "/"),
    ("qtm", "/"),
]


def measure(world: dict[str, Any], who: str, path: str) -> int:
    client = Client()
    client.force_login(world[who])
    client.get(path)  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as ctx, time_machine.travel(DAY, tick=False):
        response = client.get(path)
    assert response.status_code == 200, (who, path, response.status_code)
    return len(ctx.captured_queries)


def test_list_queries_do_not_grow_with_the_data(world: dict[str, Any]) -> None:
    grow(world, 2)
    small = {case: measure(world, *case) for case in CASES}
    grow(world, 5)
    large = {case: measure(world, *case) for case in CASES}
    grown = {case: (small[case], large[case]) for case in CASES if large[case] != small[case]}
    assert grown == {}, "queries grew with the data (N+1): " + "; ".join(
        f"{who} {path}: {a} -> {b}" for (who, path), (a, b) in grown.items()
    )
