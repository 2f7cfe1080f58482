"""The nomination and voucher pages: what each role sees and may do in a browser."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from core.choices import Category, Role
from nominations.models import Nomination
from tests.factories import CustomerFactory, PartnerFactory, issue_voucher, nominate, user_for_role
from vouchers.models import Forward

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def world(fy24: Any) -> Any:
    cache.clear()
    with time_machine.travel(date(2024, 3, 1), tick=False):
        customer = CustomerFactory(name="Contoso")
        yield {
            "fy24": fy24,
            "customer": customer,
            "contact": user_for_role(Role.CUSTOMER, customer=customer),
            "rep": user_for_role(Role.FIELD_REP),
            "pm": user_for_role(Role.PROGRAM_MANAGER),
        }


def as_user(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_data(customer: Any, **overrides: Any) -> dict[str, Any]:
    return {
        "program": "FY24-MWSDO",
        "customer": customer.tpid,
        "offer": "DEPLOY",
        "workloads": ["M365_E3"],
        "deal_value": "200000",
        "expected_close_date": "2024-05-20",
        "agreement_type": "new",
        **overrides,
    }


def test_live_eligibility_partial_explains_refusals(world: Any) -> None:
    client = as_user(world["rep"])
    page = client.get("/nominations/new/")
    assert page.status_code == 200 and b"hx-post" in page.content
    partial = client.post(
        "/nominations/check/",
        form_data(world["customer"], workloads=["FLW_F3"]),
        HTTP_HX_REQUEST="true",
    )
    assert b"R-WL-1" in partial.content and b"attached to a new" in partial.content
    good = client.post("/nominations/check/", form_data(world["customer"]), HTTP_HX_REQUEST="true")
    assert b"Eligible" in good.content and b"20,000.00" in good.content


def test_refused_nomination_keeps_the_form_and_shows_rule_sentences(world: Any) -> None:
    npo = CustomerFactory(category=Category.NON_PROFIT)
    response = as_user(world["rep"]).post("/nominations/new/", form_data(npo))
    assert response.status_code == 200
    assert (
        b"R-ELIG-2" in response.content
        and b"Non-profit customers are not eligible" in response.content
    )
    assert not Nomination.objects.exists()


def test_rep_nominates_in_the_browser(world: Any) -> None:
    response = as_user(world["rep"]).post(
        "/nominations/new/", form_data(world["customer"]), follow=True
    )
    nomination = Nomination.objects.get()
    assert response.redirect_chain[-1][0] == f"/nominations/{nomination.pk}/"
    assert b"Awaiting approval" in response.content and b"submitted" in response.content.lower()


def test_pm_approves_then_issues_with_preview(world: Any) -> None:
    nomination = nominate(world["fy24"], world["customer"], world["rep"])
    pm = as_user(world["pm"])
    queue = pm.get("/nominations/")
    assert b"Contoso" in queue.content and b"Approve" in queue.content
    pm.post(f"/nominations/{nomination.pk}/approve/", {"from": "queue"})
    preview = pm.post(
        f"/nominations/{nomination.pk}/close/preview/",
        {"closed_on": "2024-03-01", "purchase_amount": "123456.78"},
        HTTP_HX_REQUEST="true",
    )
    assert b"12,345.67" in preview.content and b"M365 Deployment, Enterprise" in preview.content
    raised = pm.post(
        f"/nominations/{nomination.pk}/close/",
        {"closed_on": "2024-03-01", "purchase_amount": "123456.78", "value": "20000"},
    )
    assert raised.status_code == 200 and b"R-CAP-1" in raised.content
    issued = pm.post(
        f"/nominations/{nomination.pk}/close/",
        {"closed_on": "2024-03-01", "purchase_amount": "123456.78"},
        follow=True,
    )
    assert b"12,345.67" in issued.content and b"being mailed" in issued.content


def test_reject_needs_a_reason_in_the_page(world: Any) -> None:
    nomination = nominate(world["fy24"], world["customer"], world["rep"])
    pm = as_user(world["pm"])
    pm.post(f"/nominations/{nomination.pk}/reject/", {"reason": ""})
    nomination.refresh_from_db()
    assert nomination.status == "submitted"
    pm.post(f"/nominations/{nomination.pk}/reject/", {"reason": "Not our customer"})
    nomination.refresh_from_db()
    assert nomination.status == "rejected"


def test_customer_sees_and_forwards_the_voucher(world: Any) -> None:
    voucher = issue_voucher(world["fy24"], world["customer"], world["rep"], world["pm"])
    partner = PartnerFactory(name="Adatum Services")
    client = as_user(world["contact"])
    page = client.get(f"/vouchers/{voucher.code}/")
    assert (
        page.status_code == 200
        and b"days left" in page.content
        and b"Forward to a FastTrack" in page.content
    )
    directory = client.get("/vouchers/directory/?q=adatum")
    assert b"Adatum Services" in directory.content
    bad = client.post(f"/vouchers/{voucher.code}/forward/", {"partner": "nope"})
    assert bad.status_code == 400 and b"R-VOU-4" in bad.content
    client.post(
        f"/vouchers/{voucher.code}/forward/", {"partner": partner.partner_id, "message": "hi"}
    )
    assert Forward.objects.filter(voucher=voucher, partner=partner).exists()


def test_partner_claims_by_code_in_the_page(world: Any) -> None:
    voucher = issue_voucher(world["fy24"], world["customer"], world["rep"], world["pm"])
    client = as_user(user_for_role(Role.PARTNER))
    typo = client.post(
        "/vouchers/claim/", {"code": voucher.code[:-1] + ("A" if voucher.code[-1] != "A" else "B")}
    )
    assert typo.status_code == 400 and b"mistyped" in typo.content
    done = client.post("/vouchers/claim/", {"code": voucher.code.lower()}, follow=True)
    assert b"You now redeem voucher" in done.content


@pytest.mark.parametrize(
    ("role", "paths"),
    [
        (Role.CUSTOMER, ["/nominations/", "/nominations/new/", "/vouchers/claim/"]),
        (Role.PARTNER, ["/nominations/", "/nominations/new/"]),
        (Role.REVIEWER, ["/nominations/new/", "/vouchers/claim/"]),
        (Role.FIELD_REP, ["/vouchers/claim/", "/vouchers/directory/"]),
    ],
)
def test_pages_a_role_must_not_reach_answer_404(world: Any, role: str, paths: list[str]) -> None:
    client = as_user(user_for_role(role))
    for path in paths:
        assert client.get(path).status_code == 404, path


def test_other_tenants_voucher_and_nomination_pages_are_404(world: Any) -> None:
    voucher = issue_voucher(world["fy24"], world["customer"], world["rep"], world["pm"])
    assert (
        as_user(user_for_role(Role.CUSTOMER)).get(f"/vouchers/{voucher.code}/").status_code == 404
    )
    assert as_user(user_for_role(Role.PARTNER)).get(f"/vouchers/{voucher.code}/").status_code == 404
    assert (
        as_user(user_for_role(Role.FIELD_REP))
        .get(f"/nominations/{voucher.nomination_id}/")
        .status_code
        == 404
    )
    assert as_user(world["contact"]).get("/vouchers/NOT-A-CODE/").status_code == 404


def test_directory_marks_partners_of_the_customers_own_company(world: Any) -> None:
    world["customer"].company = "contoso"
    world["customer"].save()
    PartnerFactory(name="Contoso Canada", company="Contoso")
    PartnerFactory(name="Adatum")
    html = as_user(world["contact"]).get("/vouchers/directory/").content.decode()
    contoso = html[html.index("Contoso Canada") - 400 : html.index("Contoso Canada")]
    assert "disabled" in contoso and "R-VOU-7" in html
    adatum = html[html.index("Adatum") - 400 : html.index("Adatum")]
    assert "disabled" not in adatum.split("directory__item")[-1]
