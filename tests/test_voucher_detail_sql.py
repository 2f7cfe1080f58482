"""The voucher detail's PostgreSQL statement (vouchers/detail_sql.py) answers exactly what the
serializer answers, and 404 exactly where the selector says no, for every role; and the
prepared token lookup (accounts/authentication.py) authenticates as the ORM path does."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from accounts.services import api_token_issue
from core.choices import Role
from core.events import event_record
from tests.factories import CustomerFactory, PartnerFactory, issue_voucher, user_for_role
from vouchers import detail_sql
from vouchers.models import Voucher
from vouchers.selectors import vouchers_visible_to
from vouchers.serializers import VoucherSerializer
from vouchers.services import voucher_claim, voucher_forward

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
DAY = date(2024, 3, 1)


@pytest.fixture
def world(fy24: Any) -> dict[str, Any]:
    with time_machine.travel(DAY, tick=False):
        rep, other_rep = user_for_role(Role.FIELD_REP), user_for_role(Role.FIELD_REP)
        pm, reviewer = user_for_role(Role.PROGRAM_MANAGER), user_for_role(Role.REVIEWER)
        contoso, fabrikam = CustomerFactory(name='Contoso "<b>"'), CustomerFactory()
        customer = user_for_role(Role.CUSTOMER, customer=contoso)
        other_customer = user_for_role(Role.CUSTOMER, customer=fabrikam)
        adatum, litware = PartnerFactory(name="Adatum & Söhne"), PartnerFactory()
        partner = user_for_role(Role.PARTNER, partner=adatum)
        forwarded_to = user_for_role(Role.PARTNER, partner=litware)
        stranger = user_for_role(Role.PARTNER)
        claimed = issue_voucher(fy24, contoso, rep, pm)
        forwarded = issue_voucher(fy24, fabrikam, other_rep, pm)
        voucher_forward(voucher_id=claimed.pk, user=customer, partner_id=adatum.partner_id)
        voucher_claim(code=claimed.code, user=partner)
        voucher_forward(voucher_id=forwarded.pk, user=other_customer, partner_id=litware.partner_id)
    # History with a reason, data, microseconds and an actor-less (system) row.
    event_record(
        subject="voucher",
        subject_id=claimed.pk,
        action="noted",
        reason='Line 1\nLine "2"',
        data={"amount": "12.50", "nested": {"ok": True}},
    )
    return {
        "users": {
            "pm": pm,
            "reviewer": reviewer,
            "rep": rep,
            "other_rep": other_rep,
            "customer": customer,
            "other_customer": other_customer,
            "partner": partner,
            "forwarded_to": forwarded_to,
            "stranger": stranger,
        },
        "vouchers": [claimed, forwarded],
    }


def serializer_json(voucher: Voucher) -> Any:
    voucher = Voucher.objects.select_related("customer", "offer", "partner", "program").get(
        pk=voucher.pk
    )
    data = VoucherSerializer(voucher, context={"with_events": True}).data
    return json.loads(json.dumps(data, default=str))


def test_same_document_and_same_404s_for_every_role(world: dict[str, Any]) -> None:
    assert detail_sql.fast_detail_available()
    checked = 0
    for name, user in world["users"].items():
        visible = set(vouchers_visible_to(user).values_list("pk", flat=True))
        for voucher in world["vouchers"]:
            body = detail_sql.voucher_detail_json(user=user, code=voucher.code)
            if voucher.pk in visible:
                assert body is not None, (name, voucher.code)
                assert json.loads(body) == serializer_json(voucher), name
                checked += 1
            else:
                assert body is None, (name, voucher.code)
    assert checked >= 6  # staff x2, the rep, the customer, the partner, the forwarded-to


def test_timestamps_with_and_without_microseconds_as_drf_writes_them(
    world: dict[str, Any],
) -> None:
    claimed = world["vouchers"][0]
    body = detail_sql.voucher_detail_json(user=world["users"]["pm"], code=claimed.code)
    assert body is not None
    stamps = [event["at"] for event in json.loads(body)["events"]]
    assert any("." not in at for at in stamps)  # the travelled-to midnight rows
    assert any("." in at for at in stamps)  # the row written just now
    assert all(at.endswith("Z") for at in stamps)
    assert json.loads(body) == serializer_json(claimed)


def test_the_cached_visibility_sql_is_the_selectors(world: dict[str, Any]) -> None:
    """The compiled-once SQL is what the selector would compile for the real user."""
    from core.scopes import effective_role

    for user in world["users"].values():
        fresh, params = vouchers_visible_to(user).order_by().values("pk").query.sql_with_params()
        cached = detail_sql._visible_sql(
            effective_role(user), user.pk, user.customer_id, user.partner_id
        )
        assert cached == (fresh, tuple(params))


def test_api_answers_through_the_statement(world: dict[str, Any]) -> None:
    partner = world["users"]["partner"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=partner)[1]}")
    claimed, forwarded = world["vouchers"]
    response = client.get(f"/api/v1/vouchers/{claimed.code.lower().replace('-', '')}/")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response.json() == serializer_json(claimed)
    assert client.get(f"/api/v1/vouchers/{forwarded.code}/").status_code == 404
    mistyped = claimed.code[:-1] + ("2" if claimed.code[-1] != "2" else "3")
    assert client.get(f"/api/v1/vouchers/{mistyped}/").json()["code"] == "mistyped_code"


def test_token_authentication(world: dict[str, Any]) -> None:
    partner = world["users"]["partner"]
    key = api_token_issue(user=partner)[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/vouchers/").status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = client.get("/api/v1/vouchers/")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    partner.is_active = False
    partner.save(update_fields=["is_active"])
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/vouchers/").status_code == 401
