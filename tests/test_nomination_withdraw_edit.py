"""A field rep withdraws or edits a nomination still awaiting approval (R-ELIG-9, our
decision in docs/decisions.md): only their own, only while pending, every change checked
as a new nomination is and recorded in an event; a withdrawn nomination frees its group
(R-OFFER-1)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.test import Client
from rest_framework.test import APIClient

from core.choices import Category, Role
from core.models import Event
from nominations.models import Nomination
from nominations.services import nomination_approve, nomination_reject
from tests.factories import CustomerFactory, issue_voucher, nominate, user_for_role

pytestmark = [pytest.mark.django_db]
TODAY = date(2024, 3, 1)


@pytest.fixture(autouse=True)
def _frozen_day() -> Any:
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def world(fy24: Any) -> dict[str, Any]:
    rep = user_for_role(Role.FIELD_REP)
    customer = CustomerFactory(name="Contoso", e3_licenses=400)
    return {
        "program": fy24,
        "rep": rep,
        "pm": user_for_role(Role.PROGRAM_MANAGER),
        "customer": customer,
        "nomination": nominate(fy24, customer, rep, expected_close_date=date(2024, 5, 15)),
    }


def api_as(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def page_as(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def actions(nomination: Nomination) -> list[str]:
    return list(
        Event.objects.filter(subject="nomination", subject_id=nomination.pk).values_list(
            "action", flat=True
        )
    )


# -- withdraw: the API ------------------------------------------------------------------------


def test_the_rep_withdraws_and_the_customer_can_be_nominated_again(world: dict[str, Any]) -> None:
    nomination, rep = world["nomination"], world["rep"]
    client = api_as(rep)
    # The open nomination holds the m365 group (R-OFFER-1).
    again = {
        "program": "FY24-MWSDO",
        "customer": world["customer"].tpid,
        "offer": "MIGRATE",
        "workloads": ["M365_E3"],
        "migration_sources": ["competitor"],
        "deal_value": "300000.00",
        "expected_close_date": "2024-05-20",
    }
    held = client.post("/api/v1/nominations/", again, format="json")
    assert held.status_code == 400 and held.json()["rule"] == "R-OFFER-1"

    response = client.post(
        f"/api/v1/nominations/{nomination.pk}/withdraw/",
        {"reason": "The customer chose the migration offer"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "withdrawn"
    assert body["withdrawal_reason"] == "The customer chose the migration offer"
    [event] = Event.objects.filter(subject="nomination", action="withdrawn")
    assert (event.from_state, event.to_state, event.actor) == ("submitted", "withdrawn", rep)
    assert event.reason == "The customer chose the migration offer"
    assert [e["action"] for e in body["events"]] == ["submitted", "withdrawn"]

    renominated = client.post("/api/v1/nominations/", again, format="json")
    assert renominated.status_code == 201, renominated.json()
    assert Nomination.objects.filter(customer=world["customer"]).count() == 2


def test_withdraw_refusals(world: dict[str, Any]) -> None:
    nomination, rep, pm = world["nomination"], world["rep"], world["pm"]
    url = f"/api/v1/nominations/{nomination.pk}/withdraw/"
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": 42}):
        response = api_as(rep).post(url, body, format="json")
        assert response.status_code == 400, body
        assert "reason" in response.json()["fields"]
    # Other roles: 403; another rep: 404, exactly as a missing nomination.
    for role in (Role.PROGRAM_MANAGER, Role.REVIEWER, Role.CUSTOMER, Role.PARTNER):
        denied = api_as(user_for_role(role)).post(url, {"reason": "x"}, format="json")
        assert denied.status_code == 403, role
    other = api_as(user_for_role(Role.FIELD_REP))
    foreign = other.post(url, {"reason": "x"}, format="json")
    missing = other.post("/api/v1/nominations/999999/withdraw/", {"reason": "x"}, format="json")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    nomination.refresh_from_db()
    assert nomination.status == "submitted"

    # Once decided (approved, rejected, issued or withdrawn already): 409 citing R-ELIG-9.
    nomination_approve(nomination_id=nomination.pk, user=pm)
    decided = api_as(rep).post(url, {"reason": "too late"}, format="json")
    assert decided.status_code == 409
    assert decided.json()["rule"] == "R-ELIG-9" and decided.json()["code"] == "not_pending"
    assert "approved" in decided.json()["detail"]

    rejected = nominate(world["program"], CustomerFactory(), rep)
    nomination_reject(nomination_id=rejected.pk, user=pm, reason="No budget")
    withdrawn = nominate(world["program"], CustomerFactory(), rep)
    api_as(rep).post(
        f"/api/v1/nominations/{withdrawn.pk}/withdraw/", {"reason": "dup"}, format="json"
    )
    issued = issue_voucher(world["program"], CustomerFactory(), rep, pm).nomination
    for done in (rejected, withdrawn, issued):
        response = api_as(rep).post(
            f"/api/v1/nominations/{done.pk}/withdraw/", {"reason": "x"}, format="json"
        )
        assert response.status_code == 409 and response.json()["rule"] == "R-ELIG-9"
    assert actions(withdrawn) == ["submitted", "withdrawn"]


def test_a_withdrawn_nomination_cannot_be_approved_or_rejected(world: dict[str, Any]) -> None:
    nomination, rep, pm = world["nomination"], world["rep"], world["pm"]
    api_as(rep).post(
        f"/api/v1/nominations/{nomination.pk}/withdraw/", {"reason": "dup"}, format="json"
    )
    client = api_as(pm)
    assert client.post(f"/api/v1/nominations/{nomination.pk}/approve/").status_code == 409
    rejected = client.post(
        f"/api/v1/nominations/{nomination.pk}/reject/", {"reason": "x"}, format="json"
    )
    assert rejected.status_code == 409


def test_the_database_wants_a_reason_for_a_withdrawal(world: dict[str, Any]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Nomination.objects.filter(pk=world["nomination"].pk).update(status="withdrawn")


# -- edit: the API ----------------------------------------------------------------------------


def test_the_rep_edits_a_pending_nomination_and_the_event_says_what_changed(
    world: dict[str, Any],
) -> None:
    nomination, rep = world["nomination"], world["rep"]
    response = api_as(rep).patch(
        f"/api/v1/nominations/{nomination.pk}/",
        {
            "deal_value": "500000.00",
            "workloads": ["M365_E5", "M365_E3", "COMPLIANCE"],
            "notes": "Bigger deal after the workshop",
            # Sent back unchanged: accepted.
            "program": "FY24-MWSDO",
            "customer": world["customer"].tpid,
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "submitted" and body["deal_value"] == "500000.00"
    assert body["estimated_value"] == "50000.00"  # worked out again (10%, R-CAP-1)
    [event] = Event.objects.filter(subject="nomination", action="edited")
    assert event.actor == rep and event.from_state == event.to_state == "submitted"
    assert event.data["changed"] == {
        "workloads": {"from": ["M365_E3", "M365_E5"], "to": ["M365_E5", "M365_E3", "COMPLIANCE"]},
        "deal_value": {"from": "400000.00", "to": "500000.00"},
        "notes": {"from": "", "to": "Bigger deal after the workshop"},
    }
    assert event.data["estimated_value"] == "50000.00"

    # A PATCH that changes nothing records nothing (another order of workloads is the same).
    same = api_as(rep).patch(
        f"/api/v1/nominations/{nomination.pk}/",
        {"workloads": ["COMPLIANCE", "M365_E3", "M365_E5"], "deal_value": "500000"},
        format="json",
    )
    assert same.status_code == 200
    assert actions(nomination) == ["submitted", "edited"]

    # Changing the offer to the other group moves the nomination there.
    copilot = api_as(rep).patch(
        f"/api/v1/nominations/{nomination.pk}/",
        {"offer": "COPILOT", "workloads": ["M365_COPILOT"]},
        format="json",
    )
    assert copilot.status_code == 200, copilot.json()
    nomination.refresh_from_db()
    assert nomination.offer.code == "COPILOT" and nomination.exclusive_group == "copilot"


def test_an_edit_is_checked_as_a_new_nomination_with_every_rule(world: dict[str, Any]) -> None:
    nomination, rep = world["nomination"], world["rep"]
    url = f"/api/v1/nominations/{nomination.pk}/"
    cases = [
        ({"licensing_channel": "csp"}, "R-ELIG-2"),
        ({"expected_close_date": "2024-02-01"}, "R-ELIG-4"),  # before today
        ({"ecif_funded": True}, "R-ELIG-6"),
        ({"agreement_type": "renewal"}, "R-ELIG-7"),  # without upsell or expansion
        ({"offer": "MIGRATE"}, "R-OFFER-2"),  # no migration source
        ({"workloads": ["FLW_F3"]}, "R-WL-1"),
        ({"deal_value": "2000000.00"}, "R-CAP-2"),
    ]
    for change, rule in cases:
        response = api_as(rep).patch(url, change, format="json")
        assert response.status_code == 400, change
        assert rule in {v["rule"] for v in response.json()["violations"]}, (change, response.json())
    # Another nomination of the customer holds the copilot group: R-OFFER-1.
    nominate(world["program"], world["customer"], rep, offer="COPILOT", workloads=["M365_COPILOT"])
    held = api_as(rep).patch(
        url, {"offer": "COPILOT", "workloads": ["M365_COPILOT"]}, format="json"
    )
    assert held.status_code == 400 and held.json()["rule"] == "R-OFFER-1"
    # Invalid input: field errors, never a 500.
    for change in (
        {"deal_value": "abc"},
        {"deal_value": "NaN"},
        {"expected_close_date": "2024-13-45"},
        {"workloads": "M365_E3"},
        {"ecif_funded": "yes"},
        {"agreement_type": "forever"},
        {"notes": "x" * 2001},
    ):
        response = api_as(rep).patch(url, change, format="json")
        assert response.status_code == 400 and response.json()["fields"], change
    nomination.refresh_from_db()
    assert nomination.deal_value == Decimal("400000.00") and nomination.offer.code == "DEPLOY"
    assert actions(nomination) == ["submitted"]


def test_the_program_and_customer_cannot_be_changed(world: dict[str, Any]) -> None:
    nomination, rep = world["nomination"], world["rep"]
    other = CustomerFactory()
    response = api_as(rep).patch(
        f"/api/v1/nominations/{nomination.pk}/", {"customer": other.tpid}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "unchangeable" and "customer" in response.json()["fields"]
    assert "R-ELIG-9" in response.json()["fields"]["customer"][0]
    nomination.refresh_from_db()
    assert nomination.customer == world["customer"]


def test_edit_refusals_by_role_tenant_and_state(world: dict[str, Any]) -> None:
    nomination, rep, pm = world["nomination"], world["rep"], world["pm"]
    url = f"/api/v1/nominations/{nomination.pk}/"
    change = {"deal_value": "450000.00"}
    for role in (Role.PROGRAM_MANAGER, Role.REVIEWER, Role.CUSTOMER, Role.PARTNER):
        assert api_as(user_for_role(role)).patch(url, change, format="json").status_code == 403
    other = api_as(user_for_role(Role.FIELD_REP))
    foreign = other.patch(url, change, format="json")
    missing = other.patch("/api/v1/nominations/999999/", change, format="json")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    assert api_as(rep).put(url, change, format="json").status_code in (403, 405)  # no PUT

    nomination_approve(nomination_id=nomination.pk, user=pm)
    decided = api_as(rep).patch(url, change, format="json")
    assert decided.status_code == 409
    assert decided.json()["rule"] == "R-ELIG-9" and decided.json()["code"] == "not_pending"
    nomination.refresh_from_db()
    assert nomination.deal_value == Decimal("400000.00")


# -- the pages --------------------------------------------------------------------------------


def test_the_nomination_page_offers_edit_and_withdraw_to_its_rep_only(
    world: dict[str, Any],
) -> None:
    nomination, rep, pm = world["nomination"], world["rep"], world["pm"]
    mine = page_as(rep).get(f"/nominations/{nomination.pk}/")
    assert f'href="/nominations/{nomination.pk}/edit/"'.encode() in mine.content
    assert f'action="/nominations/{nomination.pk}/withdraw/"'.encode() in mine.content
    assert b'name="reason"' in mine.content
    assert b'data-confirm="Withdraw the nomination of Contoso (DEPLOY)?' in mine.content
    staff = page_as(pm).get(f"/nominations/{nomination.pk}/")
    assert b"/withdraw/" not in staff.content and b"/edit/" not in staff.content
    other = page_as(user_for_role(Role.FIELD_REP))
    assert other.get(f"/nominations/{nomination.pk}/").status_code == 404
    assert other.get(f"/nominations/{nomination.pk}/edit/").status_code == 404
    assert other.post(f"/nominations/{nomination.pk}/withdraw/", {"reason": "x"}).status_code == 404
    assert page_as(pm).post(f"/nominations/{nomination.pk}/withdraw/").status_code == 404
    assert page_as(pm).get(f"/nominations/{nomination.pk}/edit/").status_code == 404


def test_withdraw_from_the_page(world: dict[str, Any]) -> None:
    nomination, rep = world["nomination"], world["rep"]
    client = page_as(rep)
    blank = client.post(f"/nominations/{nomination.pk}/withdraw/", {"reason": " "}, follow=True)
    assert b"Say why you withdraw" in blank.content
    nomination.refresh_from_db()
    assert nomination.status == "submitted"
    done = client.post(
        f"/nominations/{nomination.pk}/withdraw/", {"reason": "Deal lost"}, follow=True
    )
    assert b"withdrawn; the customer may be nominated again" in done.content
    assert b"Withdrawn because" in done.content and b"Deal lost" in done.content
    assert b"/withdraw/" not in done.content.split(b"Withdrawn because")[1]
    nomination.refresh_from_db()
    assert nomination.status == "withdrawn"
    again = client.post(f"/nominations/{nomination.pk}/withdraw/", {"reason": "x"}, follow=True)
    assert b"R-ELIG-9" in again.content
    listed = client.get("/nominations/", {"status": "withdrawn"})
    assert b"Withdrawn" in listed.content and b"Contoso" in listed.content


def test_edit_from_the_page_with_the_live_check(world: dict[str, Any]) -> None:
    nomination, rep = world["nomination"], world["rep"]
    client = page_as(rep)
    page = client.get(f"/nominations/{nomination.pk}/edit/")
    assert page.status_code == 200
    assert b'value="400000.00"' in page.content and b'name="editing"' in page.content
    assert b"disabled" in page.content  # program and customer are fixed
    form = {
        "offer": "DEPLOY",
        "workloads": ["M365_E3", "M365_E5"],
        "deal_value": "600000",
        "expected_close_date": "2024-05-15",
        "agreement_type": "new",
        "licensing_channel": "ea",
        "editing": str(nomination.pk),
    }
    # The live check leaves the nomination's own group out (no R-OFFER-1 against itself).
    panel = client.post("/nominations/check/", form)
    assert b"Eligible" in panel.content and b"R-OFFER-1" not in panel.content
    assert b"60,000.00" in panel.content
    # A change that breaks a rule is refused on the form with its rule ID.
    refused = client.post(f"/nominations/{nomination.pk}/edit/", {**form, "ecif_funded": "on"})
    assert refused.status_code == 200 and b"R-ELIG-6" in refused.content
    saved = client.post(f"/nominations/{nomination.pk}/edit/", form, follow=True)
    assert b"Nomination updated" in saved.content
    assert b"<strong>Edited</strong>" in saved.content  # the history, with what changed
    assert "Deal value: <del>400000.00</del> → <ins>600000.00</ins>" in saved.content.decode()
    nomination.refresh_from_db()
    assert nomination.deal_value == Decimal("600000") and nomination.status == "submitted"
    assert nomination.estimated_value == Decimal("60000.00")
    assert actions(nomination) == ["submitted", "edited"]

    nomination_approve(nomination_id=nomination.pk, user=world["pm"])
    late = client.get(f"/nominations/{nomination.pk}/edit/", follow=True)
    assert late.redirect_chain[-1][0] == f"/nominations/{nomination.pk}/"
    assert b"R-ELIG-9" in late.content


def test_the_live_check_ignores_an_editing_id_that_is_not_the_reps(world: dict[str, Any]) -> None:
    other_rep = user_for_role(Role.FIELD_REP)
    npo = CustomerFactory(category=Category.NON_PROFIT)
    client = page_as(other_rep)
    for editing in (str(world["nomination"].pk), "x", "9" * 40, ""):
        response = client.post(
            "/nominations/check/",
            {
                "program": "FY24-MWSDO",
                "customer": npo.tpid,
                "offer": "DEPLOY",
                "workloads": ["M365_E3"],
                "deal_value": "100000",
                "expected_close_date": "2024-05-15",
                "agreement_type": "new",
                "editing": editing,
            },
        )
        assert response.status_code == 200 and b"R-ELIG-2" in response.content
