"""Customers forward vouchers to FastTrack Ready Partners; partners claim or decline
(R-VOU-4, R-VOU-5, R-VOU-7, R-OFFER-3, R-NOT-2)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from rest_framework.test import APIClient

from core.choices import Role
from tests.factories import CustomerFactory, PartnerFactory, issue_voucher, user_for_role
from vouchers.models import Voucher

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks: Any) -> Any:
    """Runs the after-commit work (mail dispatch) of the calls made inside it."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def world(fy24: Any) -> Any:
    cache.clear()
    with time_machine.travel(date(2024, 3, 1), tick=False):
        customer = CustomerFactory(name="Contoso", company="contoso")
        contact = user_for_role(Role.CUSTOMER, customer=customer, email="it@contoso.example")
        rep, pm = (
            user_for_role(Role.FIELD_REP, email="rep@ms.example"),
            user_for_role(Role.PROGRAM_MANAGER),
        )
        voucher = issue_voucher(fy24, customer, rep, pm)
        adatum = PartnerFactory(name="Adatum", company="adatum")
        partner = user_for_role(Role.PARTNER, partner=adatum, email="ops@adatum.example")
        mail.outbox.clear()
        yield {
            "voucher": voucher,
            "contact": contact,
            "partner": partner,
            "adatum": adatum,
            "fy24": fy24,
        }


def test_forward_mails_the_partner_who_then_sees_and_claims(world: Any, on_commit: Any) -> None:
    code = world["voucher"].code
    partner = client_for(world["partner"])
    assert partner.get(f"/api/v1/vouchers/{code}/").status_code == 404  # not yet forwarded
    with on_commit():
        response = client_for(world["contact"]).post(
            f"/api/v1/vouchers/{code}/forward/",
            {"partner": world["adatum"].partner_id, "message": "<b>Please</b> start in May"},
            format="json",
        )
    assert response.status_code == 200, response.json()
    [sent] = mail.outbox
    assert sent.to == ["ops@adatum.example"] and code in sent.subject
    assert "&lt;b&gt;Please&lt;/b&gt;" in cast(
        str, cast(EmailMultiAlternatives, sent).alternatives[0][0]
    )  # escaped in HTML
    assert partner.get(f"/api/v1/vouchers/{code}/").json()["status"] == "issued"
    mail.outbox.clear()
    with on_commit():
        claimed = partner.post(f"/api/v1/vouchers/{code}/claim/")
    assert claimed.status_code == 200 and claimed.json()["status"] == "claimed"
    assert claimed.json()["partner"] == world["adatum"].partner_id
    [told] = mail.outbox  # R-NOT-2: the customer hears of the acceptance
    assert told.to == ["it@contoso.example"] and "accepted" in told.subject
    assert partner.post(f"/api/v1/vouchers/{code}/claim/").status_code == 200  # a double click


def test_code_alone_is_enough_to_claim(world: Any) -> None:
    response = client_for(world["partner"]).post(f"/api/v1/vouchers/{world['voucher'].code}/claim/")
    assert response.status_code == 200 and response.json()["status"] == "claimed"


def test_only_one_partner_redeems(world: Any) -> None:
    code = world["voucher"].code
    client_for(world["partner"]).post(f"/api/v1/vouchers/{code}/claim/")
    rival = client_for(user_for_role(Role.PARTNER))
    response = rival.post(f"/api/v1/vouchers/{code}/claim/")
    assert response.status_code == 409 and response.json()["rule"] == "R-VOU-5"


def test_unapproved_partner_cannot_claim_or_be_chosen(world: Any) -> None:
    unapproved = PartnerFactory(frp_approved=False)
    code = world["voucher"].code
    response = client_for(user_for_role(Role.PARTNER, partner=unapproved)).post(
        f"/api/v1/vouchers/{code}/claim/"
    )
    assert response.status_code == 400 and response.json()["rule"] == "R-VOU-4"
    forward = client_for(world["contact"]).post(
        f"/api/v1/vouchers/{code}/forward/", {"partner": unapproved.partner_id}, format="json"
    )
    assert forward.status_code == 400 and forward.json()["rule"] == "R-VOU-4"


def test_partner_of_the_customers_own_company_is_refused(world: Any) -> None:
    contoso_ca = PartnerFactory(name="Contoso Canada", company="Contoso")
    code = world["voucher"].code
    claim = client_for(user_for_role(Role.PARTNER, partner=contoso_ca)).post(
        f"/api/v1/vouchers/{code}/claim/"
    )
    assert claim.status_code == 400 and claim.json()["rule"] == "R-VOU-7"
    forward = client_for(world["contact"]).post(
        f"/api/v1/vouchers/{code}/forward/", {"partner": contoso_ca.partner_id}, format="json"
    )
    assert forward.status_code == 400 and forward.json()["rule"] == "R-VOU-7"


def test_expired_voucher_cannot_be_claimed(world: Any) -> None:
    voucher = world["voucher"]
    with time_machine.travel(voucher.expires_on + timedelta(days=1), tick=False):
        response = client_for(world["partner"]).post(f"/api/v1/vouchers/{voucher.code}/claim/")
    assert response.status_code == 409 and response.json()["rule"] == "R-VOU-2"
    with time_machine.travel(voucher.expires_on, tick=False):  # the last day still counts
        assert (
            client_for(world["partner"]).post(f"/api/v1/vouchers/{voucher.code}/claim/").status_code
            == 200
        )


def test_decline_releases_the_voucher_and_tells_the_customer(world: Any, on_commit: Any) -> None:
    code = world["voucher"].code
    partner = client_for(world["partner"])
    partner.post(f"/api/v1/vouchers/{code}/claim/")
    mail.outbox.clear()
    with on_commit():
        response = partner.post(
            f"/api/v1/vouchers/{code}/decline/", {"reason": "At capacity"}, format="json"
        )
    assert response.status_code == 200 and response.json()["status"] == "issued"
    assert partner.get(f"/api/v1/vouchers/{code}/").status_code == 404  # no longer theirs to see
    voucher = Voucher.objects.get(code=code)
    assert voucher.status == "issued" and voucher.partner is None
    [told] = mail.outbox
    assert "declined" in told.subject and "At capacity" in told.body
    other = client_for(user_for_role(Role.PARTNER))
    assert other.post(f"/api/v1/vouchers/{code}/claim/").status_code == 200


def test_decline_of_a_forwarded_voucher_without_claiming(world: Any, on_commit: Any) -> None:
    code = world["voucher"].code
    client_for(world["contact"]).post(
        f"/api/v1/vouchers/{code}/forward/", {"partner": world["adatum"].partner_id}, format="json"
    )
    mail.outbox.clear()
    with on_commit():
        response = client_for(world["partner"]).post(
            f"/api/v1/vouchers/{code}/decline/", {}, format="json"
        )
    assert response.status_code == 200 and response.json()["status"] == "issued"
    assert "declined" in mail.outbox[0].subject


def test_claim_attempts_are_rate_limited(world: Any, settings: Any) -> None:
    settings.RATE_LIMITS = {"claim": (3, 60)}
    partner = client_for(world["partner"])
    codes = ["2345-6789-ABCD-EFG" + c for c in "HJKLMNPQ"]
    with time_machine.travel(datetime(2024, 3, 1, 9, 0, 45, tzinfo=UTC), tick=False):
        responses = [partner.post(f"/api/v1/vouchers/{c}/claim/") for c in codes[:4]]
    statuses = [r.status_code for r in responses]
    assert 429 not in statuses[:3] and statuses[3] == 429
    # The window is the clock's minute: 15 s of it are left at 09:00:45.
    assert responses[3]["Retry-After"] == "15"
    assert responses[3].json()["code"] == "rate_limited"
    assert "wait 15 seconds" in responses[3].json()["detail"]


@pytest.mark.parametrize(
    "role", [Role.PARTNER, Role.FIELD_REP, Role.PROGRAM_MANAGER, Role.REVIEWER]
)
def test_only_customers_forward(world: Any, role: str) -> None:
    response = client_for(user_for_role(role)).post(
        f"/api/v1/vouchers/{world['voucher'].code}/forward/",
        {"partner": world["adatum"].partner_id},
        format="json",
    )
    assert response.status_code == 403


def test_another_customer_cannot_forward(world: Any) -> None:
    outsider = user_for_role(Role.CUSTOMER)
    response = client_for(outsider).post(
        f"/api/v1/vouchers/{world['voucher'].code}/forward/",
        {"partner": world["adatum"].partner_id},
        format="json",
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "role", [Role.CUSTOMER, Role.FIELD_REP, Role.PROGRAM_MANAGER, Role.REVIEWER]
)
def test_only_partners_claim(world: Any, role: str) -> None:
    assert (
        client_for(user_for_role(role))
        .post(f"/api/v1/vouchers/{world['voucher'].code}/claim/")
        .status_code
        == 403
    )
