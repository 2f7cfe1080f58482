"""Lists with tools: `search` and `ordering` on the API lists, strict as every other
parameter; a reviewer's own decisions (`decided_by=me`, and the "Your decisions" page with
search and sortable columns)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from core.choices import Role
from redemptions.services import request_approve, request_reject, request_submit
from tests.factories import CustomerFactory, PartnerFactory, issue_voucher, user_for_role
from tests.signing import signed_template
from tests.test_redemption_flow import client_for
from tests.test_redemption_pages import as_user
from vouchers.services import voucher_claim

pytestmark = [pytest.mark.django_db]
DAY = date(2024, 3, 1)


@pytest.fixture
def decided(fy24: Any) -> Any:
    """Three SOWs of three customers, two decided by one reviewer, one by another."""
    from payments.models import FxRate

    with time_machine.travel(DAY, tick=False):
        FxRate.objects.create(
            currency="USD", rate_per_usd=Decimal("1"), valid_from=date(2023, 7, 1)
        )
        rep, pm = user_for_role(Role.FIELD_REP), user_for_role(Role.PROGRAM_MANAGER)
        partner = user_for_role(Role.PARTNER, partner=PartnerFactory(name="Adatum"))
        me, other = user_for_role(Role.REVIEWER), user_for_role(Role.REVIEWER)
        requests = {}
        for name in ("Contoso", "Fabrikam", "Northwind"):
            voucher = issue_voucher(fy24, CustomerFactory(name=name), rep, pm)
            voucher_claim(code=voucher.code, user=partner)
            requests[name] = request_submit(
                voucher_id=voucher.pk,
                user=partner,
                kind="initial",
                sow_value=Decimal("20000"),
                upload=SimpleUploadedFile("s.pdf", signed_template(voucher=voucher)),
                customer_signer="Casey",
                customer_signed_on=DAY,
                partner_signer="Pat",
                partner_signed_on=DAY,
            )
        request_approve(request_id=requests["Contoso"].pk, user=me)
        request_reject(request_id=requests["Fabrikam"].pk, user=me, reason="Unsigned page 2.")
        request_approve(request_id=requests["Northwind"].pk, user=other)
    return {"me": me, "other": other, "partner": partner, "pm": pm, "requests": requests}


def customers_of(answer: Any) -> list[str]:
    return [row["voucher"] for row in answer.json()["results"]]


def test_requests_decided_by_me_and_searched(decided: Any) -> None:
    api = client_for(decided["me"])
    mine = api.get("/api/v1/requests/", {"decided_by": "me"}).json()["results"]
    assert {r["id"] for r in mine} == {
        decided["requests"]["Contoso"].pk,
        decided["requests"]["Fabrikam"].pk,
    }
    found = api.get("/api/v1/requests/", {"decided_by": "me", "search": "fabri"}).json()
    assert [r["id"] for r in found["results"]] == [decided["requests"]["Fabrikam"].pk]
    by_id = api.get("/api/v1/requests/", {"decided_by": str(decided["other"].pk)}).json()
    assert [r["id"] for r in by_id["results"]] == [decided["requests"]["Northwind"].pk]
    assert api.get("/api/v1/requests/", {"submitted_after": "2024-03-02"}).json()["count"] == 0
    assert api.get("/api/v1/requests/", {"submitted_after": "2024-03-01"}).json()["count"] == 3
    refused = api.get("/api/v1/requests/", {"decided_by": "someone"})
    assert refused.status_code == 400 and "decided_by" in refused.json()["fields"]


def test_ordering_and_search_are_strict(decided: Any) -> None:
    api = client_for(decided["pm"])
    up = [v["code"] for v in api.get("/api/v1/vouchers/", {"ordering": "code"}).json()["results"]]
    down = api.get("/api/v1/vouchers/", {"ordering": "-code"}).json()["results"]
    assert up == sorted(up) == [v["code"] for v in reversed(down)] and len(up) == 3
    unknown = api.get("/api/v1/vouchers/", {"ordering": "customer__password"})
    assert unknown.status_code == 400 and "ordering" in unknown.json()["fields"]
    assert api.get("/api/v1/vouchers/", {"search": " "}).status_code == 400
    assert api.get("/api/v1/vouchers/", {"search": "x" * 101}).status_code == 400
    named = api.get("/api/v1/vouchers/", {"search": "northwind"}).json()["results"]
    assert [v["customer"] for v in named] == [
        decided["requests"]["Northwind"].voucher.customer.tpid
    ]
    payments = api.get("/api/v1/payments/", {"search": "contoso", "ordering": "-amount_usd"})
    assert payments.status_code == 200 and payments.json()["count"] == 1


def test_a_partner_searches_only_its_own(decided: Any) -> None:
    stranger = client_for(user_for_role(Role.PARTNER, partner=PartnerFactory(name="Litware")))
    assert stranger.get("/api/v1/vouchers/", {"search": "contoso"}).json()["count"] == 0
    mine = client_for(decided["partner"]).get("/api/v1/vouchers/", {"search": "contoso"})
    assert mine.json()["count"] == 1


def test_the_reviewer_history_page_searches_and_sorts(decided: Any) -> None:
    page = as_user(decided["me"])
    text = page.get("/review/history/").content.decode()
    assert "Contoso" in text and "Fabrikam" in text and "Northwind" not in text
    assert "“Unsigned page 2.”" in text
    assert text.index("Fabrikam") < text.index("Contoso")  # the newest decision first
    by_customer = page.get("/review/history/", {"sort": "customer"}).content.decode()
    assert by_customer.index("Contoso") < by_customer.index("Fabrikam")
    assert 'aria-sort="ascending"' in by_customer and "sort=-customer" in by_customer
    found = page.get("/review/history/", {"q": "fabrikam"}).content.decode()
    assert "Fabrikam" in found and "Contoso</td>" not in found
    none = page.get("/review/history/", {"q": "zzz", "sort": "nonsense"})
    assert none.status_code == 200 and "None of your decisions matches" in none.content.decode()
    assert "Your decisions" in page.get("/review/").content.decode()


def test_voucher_queue_and_payment_pages_search_and_sort(decided: Any) -> None:
    pm = as_user(decided["pm"])
    vouchers = pm.get("/vouchers/", {"q": "fabrikam"}).content.decode()
    assert "Fabrikam" in vouchers and "Contoso" not in vouchers
    by_customer = pm.get("/vouchers/", {"sort": "-customer"}).content.decode()
    assert by_customer.index("Northwind") < by_customer.index("Contoso")
    assert 'aria-sort="descending"' in by_customer
    # The status filters keep the search.
    assert (
        "status=claimed&amp;q=fabrikam" in vouchers or "q=fabrikam&amp;status=claimed" in vouchers
    )
    assert "No voucher matches “zzz”" in pm.get("/vouchers/", {"q": "zzz"}).content.decode()

    payments = pm.get("/payments/", {"q": "northwind"}).content.decode()
    assert "Northwind" in payments and "Contoso</span>" not in payments
    sorted_payments = pm.get("/payments/", {"sort": "partner"})
    assert sorted_payments.status_code == 200

    queue = as_user(decided["me"]).get("/review/", {"q": "contoso", "sort": "due"})
    text = queue.content.decode()
    assert queue.status_code == 200 and "No open request matches “contoso”" in text
    assert 'name="q" value="contoso"' in text  # the filter bar keeps the search


def test_disputes_are_searched_and_paged(decided: Any) -> None:
    from payments.services import dispute_open

    with time_machine.travel(DAY, tick=False):
        for name in ("Contoso", "Fabrikam"):
            dispute_open(
                user=decided["partner"],
                request_id=decided["requests"][name].pk,
                text=f"About {name}'s payment.",
            )
        reviewer = as_user(decided["me"])
        text = reviewer.get("/disputes/", {"q": "fabrikam"}).content.decode()
        everything = reviewer.get("/disputes/").content.decode()
    assert "About Fabrikam" in text and "About Contoso" not in text
    # Open disputes, oldest first: the order to work them in.
    assert everything.index("About Contoso") < everything.index("About Fabrikam")
