"""Customers a field rep adds (R-ELIG-8, our decision in docs/decisions.md): unverified
until a program manager verifies them, visible to the rep who added them, nominated but
not approved before the verification; every state change leaves an event."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.test import Client
from rest_framework.test import APIClient

from core.choices import Category, Role, Segment
from core.models import Event
from customers.models import Customer
from customers.services import customer_create, customer_verify
from nominations.models import Nomination
from tests.factories import CustomerFactory, nominate, user_for_role

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fy24")]
TODAY = date(2024, 3, 1)

NEW_CUSTOMER: dict[str, Any] = {
    "tpid": "8800001",
    "name": "Woodgrove Clinics",
    "country": "NL",
    "category": "commercial",
    "segment": "enterprise",
    "e3_licenses": 250,
    "public_institution": False,
}


@pytest.fixture(autouse=True)
def _frozen_day() -> Any:
    with time_machine.travel(TODAY, tick=False):
        yield


def api_as(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def page_as(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def nomination_payload(tpid: str, **overrides: Any) -> dict[str, Any]:
    return {
        "program": "FY24-MWSDO",
        "customer": tpid,
        "offer": "DEPLOY",
        "workloads": ["M365_E3"],
        "deal_value": "300000.00",
        "expected_close_date": "2024-05-15",
        **overrides,
    }


def events_of(customer: Customer) -> list[tuple[str, str, str]]:
    return [
        (e.action, e.from_state, e.to_state)
        for e in Event.objects.filter(subject="customer", subject_id=customer.pk)
    ]


# -- the API ---------------------------------------------------------------------------------


def test_a_rep_adds_a_customer_unverified_nominates_it_and_approval_waits_for_verification(
    django_capture_on_commit_callbacks: Any,
) -> None:
    rep, pm = user_for_role(Role.FIELD_REP), user_for_role(Role.PROGRAM_MANAGER)
    created = api_as(rep).post("/api/v1/customers/", NEW_CUSTOMER, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["verification"] == "unverified"
    assert created.json()["verified_at"] is None
    customer = Customer.objects.get(tpid="8800001")
    assert customer.added_by == rep and not customer.is_verified

    # The rep nominates it at once; the rules see the facts the rep gave.
    nominated = api_as(rep).post(
        "/api/v1/nominations/", nomination_payload("8800001"), format="json"
    )
    assert nominated.status_code == 201, nominated.json()
    assert nominated.json()["customer_verification"] == "unverified"
    nid = nominated.json()["id"]

    refused = api_as(pm).post(f"/api/v1/nominations/{nid}/approve/")
    assert refused.status_code == 409
    body = refused.json()
    assert body["rule"] == "R-ELIG-8" and body["code"] == "customer_unverified"
    assert "Woodgrove Clinics" in body["detail"] and "verify the customer first" in body["detail"]
    assert Nomination.objects.get(pk=nid).status == "submitted"

    verified = api_as(pm).post("/api/v1/customers/8800001/verify/")
    assert verified.status_code == 200, verified.json()
    assert verified.json()["verification"] == "verified" and verified.json()["verified_at"]
    customer.refresh_from_db()
    assert customer.verified_by == pm

    with django_capture_on_commit_callbacks(execute=True):
        approved = api_as(pm).post(f"/api/v1/nominations/{nid}/approve/")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert events_of(customer) == [
        ("added", "", "unverified"),
        ("verified", "unverified", "verified"),
    ]
    [added] = Event.objects.filter(subject="customer", action="added")
    assert added.actor == rep and added.data["tpid"] == "8800001"


def test_verifying_twice_is_a_conflict_and_only_program_managers_verify() -> None:
    rep, pm = user_for_role(Role.FIELD_REP), user_for_role(Role.PROGRAM_MANAGER)
    customer = customer_create(user=rep, **{**NEW_CUSTOMER, "country": "NL"})
    for role in (Role.FIELD_REP, Role.REVIEWER, Role.PARTNER):
        response = api_as(user_for_role(role)).post(f"/api/v1/customers/{customer.tpid}/verify/")
        assert response.status_code == 403, role
    contact = user_for_role(Role.CUSTOMER, customer=customer)
    assert api_as(contact).post(f"/api/v1/customers/{customer.tpid}/verify/").status_code == 403
    assert api_as(pm).post(f"/api/v1/customers/{customer.tpid}/verify/").status_code == 200
    again = api_as(pm).post(f"/api/v1/customers/{customer.tpid}/verify/")
    assert again.status_code == 409
    assert again.json()["code"] == "already_verified" and again.json()["rule"] == "R-ELIG-8"
    assert api_as(pm).post("/api/v1/customers/0000000/verify/").status_code == 404
    assert [a for a, _f, _t in events_of(customer)] == ["added", "verified"]


def test_program_manager_customers_and_existing_ones_are_verified() -> None:
    pm = user_for_role(Role.PROGRAM_MANAGER)
    response = api_as(pm).post("/api/v1/customers/", NEW_CUSTOMER, format="json")
    assert response.status_code == 201 and response.json()["verification"] == "verified"
    customer = Customer.objects.get(tpid=NEW_CUSTOMER["tpid"])
    assert customer.verified_by == pm and customer.verified_at is not None
    assert events_of(customer) == [("added", "", "verified")]
    # Rows written without the service (the admin, bulk SQL, the migration) are verified.
    assert CustomerFactory().is_verified
    [bulk] = Customer.objects.bulk_create(
        [Customer(tpid="B1", name="Bulk", country="US", category="commercial", segment="smc_c")]
    )
    assert Customer.objects.get(pk=bulk.pk).verification == "verified"


def test_a_rep_cannot_set_the_verification_or_reach_another_reps_unverified_customer() -> None:
    rep, other_rep = user_for_role(Role.FIELD_REP), user_for_role(Role.FIELD_REP)
    sent = {**NEW_CUSTOMER, "verification": "verified", "verified_at": "2024-01-01T00:00:00Z"}
    assert api_as(rep).post("/api/v1/customers/", sent, format="json").status_code == 201
    customer = Customer.objects.get(tpid=NEW_CUSTOMER["tpid"])
    assert customer.verification == "unverified"  # read-only: ignored

    mine = api_as(rep).get("/api/v1/customers/", {"verification": "unverified"}).json()
    assert [c["tpid"] for c in mine["results"]] == [customer.tpid]
    # Another rep: the unverified customer answers as a missing one, and cannot be
    # nominated (R-ELIG-8): the nomination form, the API and the import do not know it.
    other = api_as(other_rep)
    foreign = other.get(f"/api/v1/customers/{customer.tpid}/")
    missing = other.get("/api/v1/customers/0000000/")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    assert customer.tpid not in str(other.get("/api/v1/customers/").json())
    refused = other.post("/api/v1/nominations/", nomination_payload(customer.tpid), format="json")
    assert refused.status_code == 400 and "customer" in refused.json()["fields"]
    assert customer.tpid.encode() not in page_as(other_rep).get("/nominations/new/").content
    # Adding the same TPID again is a conflict, whoever tries (the TPID is unique).
    again = other.post("/api/v1/customers/", NEW_CUSTOMER, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_exists"
    # Once verified, every rep sees it.
    customer_verify(tpid=customer.tpid, user=user_for_role(Role.PROGRAM_MANAGER))
    assert other.get(f"/api/v1/customers/{customer.tpid}/").status_code == 200


def test_add_customer_refusals_name_the_field_never_500() -> None:
    rep = user_for_role(Role.FIELD_REP)
    client = api_as(rep)
    bad = client.post(
        "/api/v1/customers/",
        {**NEW_CUSTOMER, "public_institution": True},  # commercial: not an institution
        format="json",
    )
    assert bad.status_code == 400 and bad.json()["code"] == "public_institution"
    for field, value in (("country", "Narnia"), ("e3_licenses", -1), ("segment", "huge")):
        response = client.post("/api/v1/customers/", {**NEW_CUSTOMER, field: value}, format="json")
        assert response.status_code == 400 and field in response.json()["fields"], field
    missing = {k: v for k, v in NEW_CUSTOMER.items() if k != "tpid"}
    assert "tpid" in client.post("/api/v1/customers/", missing, format="json").json()["fields"]
    assert not Customer.objects.filter(tpid=NEW_CUSTOMER["tpid"]).exists()
    for role in (Role.REVIEWER, Role.CUSTOMER, Role.PARTNER):
        response = api_as(user_for_role(role)).post(
            "/api/v1/customers/", NEW_CUSTOMER, format="json"
        )
        assert response.status_code == 403, role


def test_the_database_keeps_an_unverified_customer_unstamped_and_attributed() -> None:
    """R-ELIG-8 as constraints: an unverified customer names who added it and carries no
    verification; the state is one of the two."""
    rep = user_for_role(Role.FIELD_REP)
    base = {"country": "US", "category": Category.COMMERCIAL, "segment": Segment.ENTERPRISE}
    cases: list[dict[str, Any]] = [
        {"verification": "unverified"},  # nobody added it
        {"verification": "unverified", "added_by": rep, "verified_by": rep},
        {"verification": "maybe"},
    ]
    for n, fields in enumerate(cases):
        with pytest.raises(IntegrityError), transaction.atomic():
            Customer.objects.create(tpid=f"C{n}", name="x", **base, **fields)


def test_an_unverified_customer_is_refused_at_approval_whatever_the_path(fy24: Any) -> None:
    from core.errors import StateConflict
    from nominations.services import nomination_approve

    rep, pm = user_for_role(Role.FIELD_REP), user_for_role(Role.PROGRAM_MANAGER)
    customer = customer_create(user=rep, **NEW_CUSTOMER)
    nomination = nominate(fy24, customer, rep)
    with pytest.raises(StateConflict) as refused:
        nomination_approve(nomination_id=nomination.pk, user=pm)
    assert refused.value.rule == "R-ELIG-8"
    # The page says so too, and offers the verification instead of the approval.
    client = page_as(pm)
    response = client.post(f"/nominations/{nomination.pk}/approve/", follow=True)
    assert b"R-ELIG-8" in response.content and b"not verified yet" in response.content
    detail = client.get(f"/nominations/{nomination.pk}/")
    assert f"/customers/{customer.tpid}/verify/".encode() in detail.content
    assert f"/nominations/{nomination.pk}/approve/".encode() not in detail.content
    nomination.refresh_from_db()
    assert nomination.status == "submitted"


# -- the pages --------------------------------------------------------------------------------


def test_the_rep_adds_a_customer_from_the_nomination_form_and_it_is_chosen() -> None:
    rep = user_for_role(Role.FIELD_REP)
    client = page_as(rep)
    form = client.get("/nominations/new/")
    assert b"Customer not in the list?" in form.content
    assert b'href="/customers/new/?next=/nominations/new/"' in form.content

    page = client.get("/customers/new/", {"next": "/nominations/new/"})
    assert page.status_code == 200 and b"R-ELIG-8" in page.content
    response = client.post(
        "/customers/new/",
        {**NEW_CUSTOMER, "public_institution": "", "next": "/nominations/new/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/nominations/new/?customer=8800001"
    customer = Customer.objects.get(tpid="8800001")
    assert customer.verification == "unverified" and customer.added_by == rep

    back = client.get(response["Location"])
    assert b'<option value="8800001" selected>Woodgrove Clinics (8800001) \xc2\xb7 unverified' in (
        back.content
    )
    # The live eligibility panel says the approval waits for the verification.
    panel = client.post(
        "/nominations/check/",
        {
            **nomination_payload("8800001"),
            "agreement_type": "new",
            "workloads": ["M365_E3"],
        },
    )
    assert b"not verified yet" in panel.content and b"R-ELIG-8" in panel.content
    created = client.post(
        "/nominations/new/",
        {**nomination_payload("8800001"), "agreement_type": "new", "licensing_channel": "ea"},
    )
    assert created.status_code == 302
    nomination = Nomination.objects.get(customer=customer)
    detail = client.get(f"/nominations/{nomination.pk}/")
    assert b"Customer not verified yet" in detail.content
    assert b"/verify/" not in detail.content  # the rep cannot verify


def test_the_add_customer_page_refuses_bad_input_and_other_roles() -> None:
    rep = user_for_role(Role.FIELD_REP)
    client = page_as(rep)
    CustomerFactory(tpid="8800001")
    taken = client.post("/customers/new/", {**NEW_CUSTOMER, "public_institution": ""})
    assert taken.status_code == 200 and b"already in the portal" in taken.content
    institution = client.post("/customers/new/", {**NEW_CUSTOMER, "tpid": "8800002",
                                                  "public_institution": "on"})  # fmt: skip
    assert b"Only education customers" in institution.content
    huge = client.post("/customers/new/", {**NEW_CUSTOMER, "tpid": "8800003",
                                           "e3_licenses": "99999999999999"})  # fmt: skip
    assert huge.status_code == 200
    assert not Customer.objects.filter(tpid__in=["8800002", "8800003"]).exists()
    # An address elsewhere is not followed after adding.
    away = client.post(
        "/customers/new/",
        {**NEW_CUSTOMER, "tpid": "8800004", "public_institution": "", "next": "https://x.test/"},
    )
    assert away.status_code == 302 and away["Location"] == "/"
    for role in (Role.REVIEWER, Role.CUSTOMER, Role.PARTNER):
        assert page_as(user_for_role(role)).get("/customers/new/").status_code == 404


def test_the_program_manager_verifies_from_the_nomination_queue(fy24: Any) -> None:
    rep, pm = user_for_role(Role.FIELD_REP), user_for_role(Role.PROGRAM_MANAGER)
    customer = customer_create(user=rep, **NEW_CUSTOMER)
    nomination = nominate(fy24, customer, rep)
    client = page_as(pm)
    queue = client.get("/nominations/")
    assert b"Customers awaiting verification (1)" in queue.content
    assert b"Verify the customer first" in queue.content
    assert f"/nominations/{nomination.pk}/approve/".encode() not in queue.content
    response = client.post(
        f"/customers/{customer.tpid}/verify/", {"next": "/nominations/"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/nominations/"
    assert b"Woodgrove Clinics verified" in response.content
    assert b"Customers awaiting verification" not in response.content
    assert f"/nominations/{nomination.pk}/approve/".encode() in response.content
    customer.refresh_from_db()
    assert customer.is_verified and customer.verified_by == pm
    again = client.post(f"/customers/{customer.tpid}/verify/", follow=True)
    assert b"already verified" in again.content
    # Only program managers verify; the verify page answers 404 to the others.
    assert page_as(rep).post(f"/customers/{customer.tpid}/verify/").status_code == 404
    assert client.post("/customers/0000000/verify/").status_code == 404


def test_the_admin_filters_unverified_customers_and_verifies_them_with_the_event() -> None:
    rep, pm = user_for_role(Role.FIELD_REP), user_for_role(Role.PROGRAM_MANAGER)
    customer = customer_create(user=rep, **NEW_CUSTOMER)
    client = page_as(pm)
    listed = client.get("/admin/customers/customer/", {"verification__exact": "unverified"})
    assert listed.status_code == 200 and b"Woodgrove Clinics" in listed.content
    response = client.post(
        "/admin/customers/customer/",
        {"action": "verify", "_selected_action": [str(customer.pk)]},
    )
    assert response.status_code == 302
    assert b"1 customer verified." in client.get(response["Location"]).content
    customer.refresh_from_db()
    assert customer.is_verified and customer.verified_by == pm
    assert [a for a, _f, _t in events_of(customer)] == ["added", "verified"]
