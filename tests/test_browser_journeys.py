"""Nomination and issuance journeys in Chromium against a live server: a field rep meets a
refusal, fixes it and nominates; a program manager approves and issues; the customer forwards."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.core import mail
from playwright.sync_api import expect

from core.choices import Role
from nominations.models import Nomination
from tests.factories import CustomerFactory, PartnerFactory, issue_voucher, nominate, user_for_role
from vouchers.models import Forward

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pass-word-123"


@pytest.fixture
def in_fy24() -> Any:
    with time_machine.travel(datetime(2024, 3, 1, 9, 0, tzinfo=UTC), tick=True):
        yield


def sign_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")


def test_rep_meets_a_refusal_fixes_it_and_nominates(
    live_server: Any, page: Any, fy24: Any, in_fy24: Any
) -> None:
    customer = CustomerFactory(name="Northwind Traders")
    user_for_role(Role.FIELD_REP, username="rep")
    sign_in(page, live_server, "rep")
    page.get_by_role("link", name="Nominate a customer").first.click()
    page.select_option("#id_customer", customer.tpid)
    page.get_by_label("M365 Deployment Offer (DEPLOY)").check()
    page.get_by_label("Frontline Worker F3 (attached to new M365 E3/E5)").check()
    page.get_by_label("Expected deal value (USD)").fill("300000")
    page.get_by_label("Expected close date").fill("2024-05-20")
    panel = page.locator("#eligibility")
    panel.get_by_text("R-WL-1").wait_for()
    assert "attached to a new M365_E3 or M365_E5 purchase" in panel.inner_text()
    page.get_by_label("Microsoft 365 E3").check()
    panel.get_by_text("✓ Eligible", exact=True).wait_for()
    assert "$30,000.00" in panel.inner_text()
    page.get_by_role("button", name="Submit nomination").click()
    page.get_by_text("submitted for approval").wait_for()
    assert Nomination.objects.get().status == "submitted"


def test_pm_approves_and_issues(live_server: Any, page: Any, fy24: Any, in_fy24: Any) -> None:
    customer = CustomerFactory(name="Fabrikam")
    user_for_role(Role.CUSTOMER, customer=customer, email="it@fabrikam.example")
    nomination = nominate(fy24, customer, user_for_role(Role.FIELD_REP, email="rep@ms.example"))
    user_for_role(Role.PROGRAM_MANAGER, username="pm")
    sign_in(page, live_server, "pm")
    page.get_by_role("link", name=re.compile("nominations? to decide")).click()
    page.get_by_role("button", name="Approve", exact=True).click()
    page.get_by_text("Approved the nomination").wait_for()
    page.get_by_role("link", name="Approved", exact=True).click()
    page.get_by_role("link", name="Record closed deal").click()
    page.get_by_label("Deal closed on").fill("2024-03-01")
    page.get_by_label("Qualifying purchase (USD)").fill("450000")
    page.get_by_label("Qualifying purchase (USD)").press("Tab")  # a final change event
    expect(page.locator("#close-preview")).to_contain_text("$45,000.00", timeout=30000)
    page.get_by_role("button", name="Issue voucher").click()
    page.get_by_text("being mailed").wait_for()
    nomination.refresh_from_db()
    code = nomination.voucher.code
    assert page.locator(".voucher-hero__code").inner_text() == code
    assert any(code in m.subject and m.to == ["it@fabrikam.example"] for m in mail.outbox)


def test_close_preview_catches_up_when_typed_before_htmx_loads(
    live_server: Any, page: Any, fy24: Any, in_fy24: Any
) -> None:
    """On a slow line the manager can type before htmx has run: the events are lost, so the
    form asks for the preview once htmx processes it (hx-trigger `load`)."""
    from nominations.services import nomination_approve

    pm = user_for_role(Role.PROGRAM_MANAGER, username="pm")
    nomination = nominate(fy24, CustomerFactory(), user_for_role(Role.FIELD_REP))
    nomination_approve(nomination_id=nomination.pk, user=pm)
    sign_in(page, live_server, "pm")
    held: list[Any] = []
    page.route(re.compile(r"htmx[^/]*\.js"), lambda route: held.append(route))
    page.goto(f"{live_server.url}/nominations/{nomination.pk}/close/", wait_until="commit")
    page.get_by_label("Deal closed on").fill("2024-03-01")
    page.get_by_label("Qualifying purchase (USD)").fill("450000")
    page.get_by_label("Qualifying purchase (USD)").press("Tab")
    assert held, "htmx's script was not requested"
    assert page.evaluate("typeof window.htmx") == "undefined"  # typed before htmx ran
    for route in held:
        route.continue_()
    expect(page.locator("#close-preview")).to_contain_text("$45,000.00")


def test_customer_finds_the_voucher_and_forwards_it(
    live_server: Any, page: Any, fy24: Any, in_fy24: Any
) -> None:
    customer = CustomerFactory(name="Litware")
    user_for_role(Role.CUSTOMER, customer=customer, username="cust")
    voucher = issue_voucher(
        fy24, customer, user_for_role(Role.FIELD_REP), user_for_role(Role.PROGRAM_MANAGER)
    )
    adatum = PartnerFactory(name="Adatum Deployment")
    user_for_role(Role.PARTNER, partner=adatum, email="ops@adatum.example")
    PartnerFactory(name="Proseware", frp_approved=False)
    sign_in(page, live_server, "cust")
    page.get_by_role("link", name=f"Choose a partner for {voucher.code}").click()
    assert "days left" in page.locator(".countdown").inner_text()
    page.get_by_label("Search the partner directory").fill("ware")
    page.locator("#directory-results").get_by_text(
        "No FastTrack Ready Partner"
    ).wait_for()  # Proseware is not FRP
    page.get_by_label("Search the partner directory").fill("adatum")
    page.get_by_text("Adatum Deployment").click()
    page.get_by_label("Message to the partner (optional)").fill("Can you start in April?")
    page.get_by_role("button", name="Send to partner").click()
    page.get_by_text("Voucher sent to Adatum Deployment").wait_for()
    assert Forward.objects.filter(voucher=voucher, partner=adatum).exists()
    assert any(m.to == ["ops@adatum.example"] for m in mail.outbox)
