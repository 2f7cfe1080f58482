"""Rules fidelity, round 2, through the API, the pages, the bulk import and the exports:
limited-time rows never take away (R-CAP-3), no licence threshold for Copilot (R-ELIG-3),
CSP as a licensing channel (R-ELIG-2). The engine itself is in test_rules_engine.py."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any, cast

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.test import Client
from rest_framework.test import APIClient

from core.choices import Category, Role, Segment
from imports.services import import_preview
from nominations.models import Nomination
from nominations.services import nomination_approve
from tests.factories import CustomerFactory, nominate, user_for_role

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def world(fy24: Any) -> Any:
    with time_machine.travel(date(2024, 3, 1), tick=False):
        yield {
            "fy24": fy24,
            "rep": user_for_role(Role.FIELD_REP),
            "pm": user_for_role(Role.PROGRAM_MANAGER),
            "enterprise": CustomerFactory(
                name="Fabrikam", segment=Segment.ENTERPRISE, e3_licenses=5000
            ),
            "smc": CustomerFactory(
                name="Tailspin", category=Category.SMC_CORPORATE, segment=Segment.SMC_C
            ),
        }


def api_as(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def page_as(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def payload(customer: Any, **overrides: Any) -> dict[str, Any]:
    return {
        "program": "FY24-MWSDO",
        "customer": customer.tpid,
        "offer": "DEPLOY",
        "workloads": ["M365_E3"],
        "deal_value": "200000.00",
        "expected_close_date": "2024-05-20",
        **overrides,
    }


# -- R-ELIG-3: the Copilot offer has no prior-licence threshold ------------------------------


def test_copilot_nomination_of_a_customer_with_5000_e3_licences_is_accepted(world: Any) -> None:
    rep = api_as(world["rep"])
    copilot = rep.post(
        "/api/v1/nominations/",
        payload(world["enterprise"], offer="COPILOT", workloads=["M365_COPILOT"]),
        format="json",
    )
    assert copilot.status_code == 201, copilot.json()
    deploy = rep.post("/api/v1/nominations/", payload(world["enterprise"]), format="json")
    assert deploy.status_code == 400
    assert {v["rule"] for v in deploy.json()["violations"]} == {"R-ELIG-3"}


def test_copilot_check_in_the_page_has_no_licence_refusal(world: Any) -> None:
    response = page_as(world["rep"]).post(
        "/nominations/check/",
        {
            **payload(world["enterprise"], offer="COPILOT", workloads=["M365_COPILOT"]),
            "agreement_type": "new",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert b"Eligible" in response.content and b"R-ELIG-3" not in response.content


# -- R-ELIG-2: CSP is a licensing channel ------------------------------------------------------


def test_api_licensing_channel_defaults_to_ea_and_csp_is_refused(world: Any) -> None:
    rep = api_as(world["rep"])
    created = rep.post("/api/v1/nominations/", payload(world["smc"]), format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["licensing_channel"] == "ea"
    assert Nomination.objects.get().licensing_channel == "ea"

    other = CustomerFactory(category=Category.SMC_CORPORATE, segment=Segment.SMC_C)
    refused = rep.post(
        "/api/v1/nominations/", payload(other, licensing_channel="csp"), format="json"
    )
    assert refused.status_code == 400
    (violation,) = refused.json()["violations"]
    assert violation["rule"] == "R-ELIG-2" and "CSP" in violation["message"]

    mpsa = rep.post("/api/v1/nominations/", payload(other, licensing_channel="mpsa"), format="json")
    assert mpsa.status_code == 201 and mpsa.json()["licensing_channel"] == "mpsa"
    unknown = rep.post(
        "/api/v1/nominations/", payload(other, licensing_channel="retail"), format="json"
    )
    assert unknown.status_code == 400 and "licensing_channel" in unknown.json()["fields"]


def test_api_check_refuses_csp_for_a_public_sector_customer_too(world: Any) -> None:
    public = CustomerFactory(category=Category.PUBLIC_SECTOR, segment=Segment.ENTERPRISE)
    response = api_as(world["rep"]).post(
        "/api/v1/nominations/check/", payload(public, licensing_channel="csp"), format="json"
    )
    assert response.status_code == 200, response.json()
    assert [v["rule"] for v in response.json()["violations"]] == ["R-ELIG-2"]


def test_a_customer_stored_with_the_csp_category_is_still_refused(world: Any) -> None:
    stored = CustomerFactory(category=Category.CSP)
    response = api_as(world["rep"]).post("/api/v1/nominations/", payload(stored), format="json")
    assert response.status_code == 400
    assert [v["rule"] for v in response.json()["violations"]] == ["R-ELIG-2"]


def test_nomination_form_offers_the_channel_and_refuses_csp(world: Any) -> None:
    client = page_as(world["rep"])
    form = client.get("/nominations/new/")
    assert b'name="licensing_channel"' in form.content
    assert b"Cloud Solution Provider (CSP)" in form.content
    data = {**payload(world["smc"]), "agreement_type": "new", "licensing_channel": "csp"}
    refused = client.post("/nominations/new/", data)
    assert refused.status_code == 200 and not Nomination.objects.exists()
    assert b"R-ELIG-2" in refused.content and b"whatever the customer" in refused.content
    data["licensing_channel"] = "mca_e"
    created = client.post("/nominations/new/", data, follow=True)
    nomination = Nomination.objects.get()
    assert nomination.licensing_channel == "mca_e"
    assert b"Microsoft Customer Agreement for Enterprise" in created.content


def test_import_reads_the_optional_licensing_channel_column(world: Any) -> None:
    smc = world["smc"]
    others = [
        CustomerFactory(category=Category.SMC_CORPORATE, segment=Segment.SMC_C) for _ in range(2)
    ]
    text = "\n".join(
        [
            "customer_tpid,offer,workloads,deal_value,expected_close_date,licensing_channel",
            f"{smc.tpid},DEPLOY,M365_E3,200000,2024-05-20,CSP",
            f"{others[0].tpid},DEPLOY,M365_E3,200000,2024-05-20,",
            f"{others[1].tpid},DEPLOY,M365_E3,200000,2024-05-20,reseller",
        ]
    )
    with time_machine.travel(date(2024, 3, 1), tick=False):
        job = import_preview(
            user=world["rep"],
            program=world["fy24"],
            upload=ContentFile(text.encode(), name="n.csv"),
        )
    csp, blank, bad = job.rows
    assert {v["rule"] for v in csp["violations"]} == {"R-ELIG-2"}
    assert blank["ok"] and blank["values"]["licensing_channel"] == "ea"
    assert {v["rule"] for v in bad["violations"]} == {"FORMAT"}
    assert "reseller" in bad["violations"][0]["message"]


def test_nominations_export_carries_the_channel(world: Any) -> None:
    nominate(world["fy24"], world["smc"], world["rep"], licensing_channel="mpsa")
    response = page_as(world["pm"]).get("/exports/nominations.csv")
    assert response.status_code == 200
    body = b"".join(cast(Any, response).streaming_content).decode()
    table = list(csv.DictReader(io.StringIO(body)))
    assert [row["licensing_channel"] for row in table] == ["mpsa"]


# -- R-CAP-3: a limited-time row never takes away ------------------------------------------------


@pytest.mark.parametrize(("offer", "value"), [("DEPLOY", "50000.00"), ("MIGRATE", "65000.00")])
def test_smc_1m_deal_issued_in_q4_gets_the_standing_rows_cap(
    world: Any, offer: str, value: str
) -> None:
    extra = {"migration_sources": ["office_on_prem"]} if offer == "MIGRATE" else {}
    nomination = nominate(
        world["fy24"],
        world["smc"],
        world["rep"],
        offer=offer,
        deal_value=Decimal("1000000.00"),
        expected_close_date=date(2024, 3, 20),
        **extra,
    )
    nomination_approve(nomination_id=nomination.pk, user=world["pm"])
    pm = api_as(world["pm"])
    with time_machine.travel(date(2024, 4, 1), tick=False):
        preview = page_as(world["pm"]).post(
            f"/nominations/{nomination.pk}/close/preview/",
            {"closed_on": "2024-03-20", "purchase_amount": "1000000.00"},
            HTTP_HX_REQUEST="true",
        )
        issued = pm.post(
            f"/api/v1/nominations/{nomination.pk}/close-deal/",
            {"closed_on": "2024-03-20", "purchase_amount": "1000000.00"},
            format="json",
        )
    assert issued.status_code == 201, issued.json()
    assert issued.json()["value"] == value
    # The close-deal screen says which row applied and why.
    content = preview.content.decode()
    assert "R-CAP-2" not in content and f"${Decimal(value):,.2f}" in content
    assert "SMC-C, deals &gt; 750K" in content
    assert "never takes it away" in content and "$950,000.00" in content


def test_e1plus_only_deal_above_its_limit_is_refused_with_the_standing_workloads(
    world: Any,
) -> None:
    customer = CustomerFactory(category=Category.SMC_CORPORATE, segment=Segment.SMC_C, country="IN")
    with time_machine.travel(date(2024, 5, 8), tick=False):
        response = api_as(world["rep"]).post(
            "/api/v1/nominations/",
            payload(customer, workloads=["O365_E1_PLUS"], deal_value="700000.00"),
            format="json",
        )
    assert response.status_code == 400
    (violation,) = response.json()["violations"]
    assert violation["rule"] == "R-CAP-2"
    assert "would qualify: " in violation["message"] and "Microsoft 365 E3" in violation["message"]
