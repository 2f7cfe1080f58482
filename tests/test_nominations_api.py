"""Nominations and voucher issuance through the API: every role, every refusal
with its rule ID, the mail that goes out, and other tenants' objects answering 404."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, transaction
from rest_framework.test import APIClient

from core.choices import Category, Role, Segment
from core.models import Event
from nominations.models import Nomination
from tests.factories import CustomerFactory, issue_voucher, nominate, user_for_role
from vouchers.codes import generate_code
from vouchers.models import Voucher

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fy24")]
TODAY = date(2024, 3, 1)


@pytest.fixture(autouse=True)
def _frozen_day() -> Any:
    with time_machine.travel(TODAY, tick=False):
        yield


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def world() -> dict[str, Any]:
    customer = CustomerFactory(
        name="Contoso", company="contoso", segment=Segment.ENTERPRISE, e3_licenses=400
    )
    return {
        "customer": customer,
        "contact": user_for_role(Role.CUSTOMER, customer=customer, email="it@contoso.example"),
        "rep": user_for_role(Role.FIELD_REP, email="rep@microsoft.example"),
        "pm": user_for_role(Role.PROGRAM_MANAGER),
        "partner": user_for_role(Role.PARTNER, email="ops@adatum.example"),
    }


def payload(customer: Any, **overrides: Any) -> dict[str, Any]:
    return {
        "program": "FY24-MWSDO",
        "customer": customer.tpid,
        "offer": "DEPLOY",
        "workloads": ["M365_E3", "M365_E5"],
        "deal_value": "400000.00",
        "expected_close_date": "2024-05-15",
        "agreement_type": "new",
        **overrides,
    }


def test_full_journey_nominate_approve_close_issue_mail(
    world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    rep, pm = client_for(world["rep"]), client_for(world["pm"])
    created = rep.post("/api/v1/nominations/", payload(world["customer"]), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "submitted" and body["estimated_value"] == "40000.00"
    nid = body["id"]
    assert pm.post(f"/api/v1/nominations/{nid}/approve/").json()["status"] == "approved"
    with django_capture_on_commit_callbacks(execute=True):
        issued = pm.post(
            f"/api/v1/nominations/{nid}/close-deal/",
            {"closed_on": "2024-03-01", "purchase_amount": "500000.00"},
            format="json",
        )
    assert issued.status_code == 201, issued.json()
    voucher = issued.json()
    assert voucher["value"] == "50000.00" and voucher["status"] == "issued"
    assert voucher["issued_on"] == "2024-03-01" and voucher["expires_on"] == "2024-09-01"  # R-VOU-2
    assert voucher["paid_total"] == "0.00" and voucher["partner"] is None
    # R-VOU-3 / R-NOT-1: customer contacts, the rep in copy, the PDF attached.
    [sent] = [m for m in mail.outbox if voucher["code"] in m.subject]
    assert sent.to == ["it@contoso.example"] and sent.cc == ["rep@microsoft.example"]
    assert sent.attachments[0][0] == f"FastTrack-voucher-{voucher['code']}.pdf"
    assert sent.attachments[0][1][:5] == b"%PDF-"
    assert voucher["code"] in sent.body and "50,000.00" in sent.body
    detail = rep.get(f"/api/v1/nominations/{nid}/").json()
    assert detail["status"] == "issued" and detail["voucher"] == voucher["code"]
    assert [e["action"] for e in detail["events"]] == ["submitted", "approved", "deal_closed"]
    voucher_detail = client_for(world["contact"]).get(f"/api/v1/vouchers/{voucher['code']}/").json()
    assert [e["action"] for e in voucher_detail["events"]] == ["issued"]


def test_every_failed_rule_is_listed(world: dict[str, Any]) -> None:
    customer = CustomerFactory(category=Category.NON_PROFIT, e3_licenses=5000)
    response = client_for(world["rep"]).post(
        "/api/v1/nominations/",
        payload(
            customer,
            ecif_funded=True,
            agreement_type="renewal",
            expected_close_date="2024-02-01",
            workloads=["FLW_F3"],
        ),
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    rules = {v["rule"] for v in body["violations"]}
    assert {"R-ELIG-2", "R-ELIG-3", "R-ELIG-4", "R-ELIG-6", "R-ELIG-7", "R-WL-1"} <= rules
    assert body["rule"] in rules and body["code"] == "rule_violation"
    assert not Nomination.objects.exists()


def test_check_endpoint_previews_without_saving(world: dict[str, Any]) -> None:
    response = client_for(world["rep"]).post(
        "/api/v1/nominations/check/",
        payload(world["customer"], deal_value="800000.00", expected_close_date="2024-03-20"),
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["eligible"] is False and body["violations"][0]["rule"] == "R-CAP-2"
    assert not Nomination.objects.exists()


def test_one_voucher_per_exclusive_group(world: dict[str, Any]) -> None:
    rep = client_for(world["rep"])
    assert (
        rep.post("/api/v1/nominations/", payload(world["customer"]), format="json").status_code
        == 201
    )
    again = rep.post(
        "/api/v1/nominations/",
        payload(world["customer"], offer="MIGRATE", migration_sources=["competitor"]),
        format="json",
    )
    assert again.status_code == 400 and again.json()["rule"] == "R-OFFER-1"
    copilot = rep.post(
        "/api/v1/nominations/",
        payload(world["customer"], offer="COPILOT", workloads=["M365_COPILOT"]),
        format="json",
    )
    assert copilot.status_code == 201, copilot.json()


def test_database_holds_one_voucher_per_group(world: dict[str, Any], fy24: Any) -> None:
    voucher = issue_voucher(fy24, world["customer"], world["rep"], world["pm"])
    clone = Voucher.objects.get(pk=voucher.pk)
    clone.pk = None
    clone.code = "ZZZZ-ZZZZ-ZZZZ-ZZZZ"
    clone.nomination = Nomination.objects.create(
        program=fy24,
        customer=world["customer"],
        offer=voucher.offer,
        exclusive_group="other",
        workloads=[],
        deal_value=Decimal(1),
        expected_close_date=TODAY,
        agreement_type="new",
        nominated_by=world["rep"],
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save()


def test_rejected_nomination_frees_the_group_and_needs_a_reason(
    world: dict[str, Any], fy24: Any
) -> None:
    nomination = nominate(fy24, world["customer"], world["rep"])
    pm = client_for(world["pm"])
    missing = pm.post(
        f"/api/v1/nominations/{nomination.pk}/reject/", {"reason": "  "}, format="json"
    )
    assert missing.status_code == 400 and "reason" in missing.json()["fields"]
    done = pm.post(
        f"/api/v1/nominations/{nomination.pk}/reject/",
        {"reason": "Deal is ECIF funded"},
        format="json",
    )
    assert done.json()["status"] == "rejected"
    event = Event.objects.get(subject="nomination", subject_id=nomination.pk, action="rejected")
    assert event.reason == "Deal is ECIF funded" and event.actor == world["pm"]
    assert pm.post(f"/api/v1/nominations/{nomination.pk}/approve/").status_code == 409
    assert nominate(fy24, world["customer"], world["rep"]).status == "submitted"


def test_deal_closed_before_approval_gets_no_voucher(world: dict[str, Any], fy24: Any) -> None:
    nomination = nominate(fy24, world["customer"], world["rep"])
    pm = client_for(world["pm"])
    early = pm.post(
        f"/api/v1/nominations/{nomination.pk}/close-deal/",
        {"closed_on": "2024-03-01", "purchase_amount": "100000.00"},
        format="json",
    )
    assert early.status_code == 409 and early.json()["rule"] == "R-ELIG-4"
    pm.post(f"/api/v1/nominations/{nomination.pk}/approve/")
    before = pm.post(
        f"/api/v1/nominations/{nomination.pk}/close-deal/",
        {"closed_on": "2024-02-28", "purchase_amount": "100000.00"},
        format="json",
    )
    assert before.status_code == 400 and before.json()["rule"] == "R-ELIG-4"
    assert not Voucher.objects.exists()


def test_value_may_be_lowered_never_raised(world: dict[str, Any], fy24: Any) -> None:
    nomination = nominate(fy24, world["customer"], world["rep"])
    pm = client_for(world["pm"])
    pm.post(f"/api/v1/nominations/{nomination.pk}/approve/")
    url = f"/api/v1/nominations/{nomination.pk}/close-deal/"
    deal = {"closed_on": "2024-03-01", "purchase_amount": "300000.00"}
    raised = pm.post(url, {**deal, "value": "30000.01"}, format="json")
    assert raised.status_code == 400 and raised.json()["rule"] == "R-CAP-1"
    lowered = pm.post(url, {**deal, "value": "25000.00"}, format="json")
    assert lowered.status_code == 201 and lowered.json()["value"] == "25000.00"
    assert pm.post(url, deal, format="json").status_code == 409  # issued once


def test_close_deal_rechecks_the_real_purchase(world: dict[str, Any], fy24: Any) -> None:
    nomination = nominate(fy24, world["customer"], world["rep"])
    pm = client_for(world["pm"])
    pm.post(f"/api/v1/nominations/{nomination.pk}/approve/")
    too_big = pm.post(
        f"/api/v1/nominations/{nomination.pk}/close-deal/",
        {"closed_on": "2024-03-01", "purchase_amount": "750000.01"},
        format="json",
    )
    assert too_big.status_code == 400 and too_big.json()["rule"] == "R-CAP-2"
    future = pm.post(
        f"/api/v1/nominations/{nomination.pk}/close-deal/",
        {"closed_on": "2024-03-02", "purchase_amount": "100000.00"},
        format="json",
    )
    assert future.status_code == 400 and future.json()["rule"] == "R-VOU-1"


@pytest.mark.parametrize("role", [Role.PARTNER, Role.CUSTOMER, Role.REVIEWER, Role.PROGRAM_MANAGER])
def test_only_field_reps_nominate(world: dict[str, Any], role: str) -> None:
    response = client_for(user_for_role(role)).post(
        "/api/v1/nominations/", payload(world["customer"]), format="json"
    )
    assert response.status_code == 403


@pytest.mark.parametrize("role", [Role.FIELD_REP, Role.REVIEWER, Role.CUSTOMER, Role.PARTNER])
def test_only_program_managers_decide(world: dict[str, Any], fy24: Any, role: str) -> None:
    nomination = nominate(fy24, world["customer"], world["rep"])
    client = client_for(world["rep"] if role == Role.FIELD_REP else user_for_role(role))
    for action in ("approve", "reject", "close-deal"):
        assert (
            client.post(
                f"/api/v1/nominations/{nomination.pk}/{action}/", {}, format="json"
            ).status_code
            == 403
        )


def test_field_reps_see_only_their_own_nominations(world: dict[str, Any], fy24: Any) -> None:
    mine = nominate(fy24, world["customer"], world["rep"])
    other_rep = client_for(user_for_role(Role.FIELD_REP))
    assert other_rep.get("/api/v1/nominations/").json()["results"] == []
    assert other_rep.get(f"/api/v1/nominations/{mine.pk}/").status_code == 404
    assert other_rep.get("/api/v1/nominations/999999/").status_code == 404
    assert client_for(world["contact"]).get("/api/v1/nominations/").status_code == 403


def test_voucher_visibility_per_tenant(world: dict[str, Any], fy24: Any) -> None:
    voucher = issue_voucher(fy24, world["customer"], world["rep"], world["pm"])
    url = f"/api/v1/vouchers/{voucher.code}/"
    assert client_for(world["contact"]).get(url).status_code == 200
    assert client_for(world["rep"]).get(url).status_code == 200
    other_customer = user_for_role(Role.CUSTOMER)
    for outsider in (other_customer, world["partner"], user_for_role(Role.FIELD_REP)):
        response = client_for(outsider).get(url)
        assert response.status_code == 404, outsider.role
        missing = client_for(outsider).get(f"/api/v1/vouchers/{generate_code()}/")
        assert missing.status_code == 404 and response.json() == missing.json()  # no existence leak
    assert client_for(other_customer).get("/api/v1/vouchers/").json()["results"] == []


def test_mistyped_code_is_reported_as_mistyped(world: dict[str, Any], fy24: Any) -> None:
    voucher = issue_voucher(fy24, world["customer"], world["rep"], world["pm"])
    last = voucher.code[-1]
    typo = voucher.code[:-1] + ("A" if last != "A" else "B")
    response = client_for(world["contact"]).get(f"/api/v1/vouchers/{typo}/")
    assert response.status_code == 400 and response.json()["code"] == "mistyped_code"
    assert (
        client_for(world["contact"]).get(f"/api/v1/vouchers/{voucher.code.lower()}/").status_code
        == 200
    )


def test_voucher_pdf_for_customer_rep_and_pm_only(world: dict[str, Any], fy24: Any) -> None:
    voucher = issue_voucher(fy24, world["customer"], world["rep"], world["pm"])
    url = f"/api/v1/vouchers/{voucher.code}/voucher.pdf"
    for user in (world["contact"], world["rep"], world["pm"]):
        response = client_for(user).get(url)
        assert response.status_code == 200 and response.content[:5] == b"%PDF-"
        assert "attachment" in response["Content-Disposition"]
    assert client_for(world["partner"]).get(url).status_code == 403


def test_the_rep_hears_of_each_decision(
    world: dict[str, Any], fy24: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The field rep who nominated is mailed the program manager's decision, once: an
    approval says what comes next, a rejection gives the reason."""
    pm = client_for(world["pm"])
    approved = nominate(fy24, world["customer"], world["rep"])
    with django_capture_on_commit_callbacks(execute=True):
        pm.post(f"/api/v1/nominations/{approved.pk}/approve/")
        assert pm.post(f"/api/v1/nominations/{approved.pk}/approve/").status_code == 409
    [sent] = mail.outbox
    assert sent.to == ["rep@microsoft.example"]
    assert sent.subject == "Nomination approved: Contoso"
    assert "When the deal closes, the program manager records it" in sent.body
    assert f"/nominations/{approved.pk}/" in sent.body

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        pm.post(
            f"/api/v1/nominations/{approved.pk}/reject/",
            {"reason": "Deal is ECIF funded"},
            format="json",
        )
    [sent] = mail.outbox
    assert sent.subject == "Nomination rejected: Contoso"
    assert "Reason: Deal is ECIF funded" in sent.body
