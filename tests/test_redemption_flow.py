"""Partner redemption and QTM review through the API: templates, signed uploads, requests,
review, payouts, payments, statements, batches, disputes and extensions, for every role."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, cast

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from core.choices import Category, Role
from payments.models import FxRate, Payment
from redemptions.models import PaymentRequest, RequestDocument
from tests.factories import CustomerFactory, PartnerFactory, issue_voucher, user_for_role
from tests.signing import signed_template
from vouchers.models import Voucher

pytestmark = [pytest.mark.django_db]
DAY = date(2024, 3, 1)  # a Friday


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def world(fy24: Any) -> Any:
    cache.clear()
    with time_machine.travel(DAY, tick=False):
        customer = CustomerFactory(name="Contoso")
        user_for_role(Role.CUSTOMER, customer=customer, email="it@contoso.example")
        rep, pm = user_for_role(Role.FIELD_REP), user_for_role(Role.PROGRAM_MANAGER)
        voucher = issue_voucher(
            fy24, customer, rep, pm, purchase_amount=Decimal("500000.00")
        )  # value 50,000
        litware = PartnerFactory(name="Litware", currency="BRL")
        FxRate.objects.create(
            currency="BRL", rate_per_usd=Decimal("4.950000"), valid_from=date(2023, 7, 1)
        )
        partner_user = user_for_role(Role.PARTNER, partner=litware, email="ops@litware.example")
        partner = client_for(partner_user)
        assert partner.post(f"/api/v1/vouchers/{voucher.code}/claim/").status_code == 200
        voucher.refresh_from_db()
        mail.outbox.clear()
        yield {
            "voucher": voucher,
            "partner": partner,
            "partner_user": partner_user,
            "litware": litware,
            "reviewer": user_for_role(Role.REVIEWER),
            "pm": pm,
            "rep": rep,
            "fy24": fy24,
            "customer": customer,
        }


def signed(voucher: Voucher, kind: str = "sow", name: str = "signed.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, signed_template(voucher=voucher, kind=kind), content_type="application/pdf"
    )


def submit(client: APIClient, voucher: Voucher, kind: str = "initial", **overrides: Any) -> Any:
    body = {
        "kind": kind,
        "document": signed(voucher, "sow" if kind == "initial" else "poe"),
        "customer_signer": "Casey Customer",
        "customer_signed_on": "2024-03-01",
        "partner_signer": "Pat Partner",
        "partner_signed_on": "2024-03-01",
        **({"sow_value": "60000.00"} if kind == "initial" else {}),
        **overrides,
    }
    return client.post(f"/api/v1/vouchers/{voucher.code}/requests/", body, format="multipart")


def test_templates_for_the_claiming_partner_only(world: Any) -> None:
    code = world["voucher"].code
    for kind in ("sow", "poe"):
        response = world["partner"].get(f"/api/v1/vouchers/{code}/templates/{kind}.pdf")
        assert response.status_code == 200 and response.content[:5] == b"%PDF-"
    assert (
        client_for(user_for_role(Role.PARTNER))
        .get(f"/api/v1/vouchers/{code}/templates/sow.pdf")
        .status_code
        == 404
    )
    assert (
        client_for(world["rep"]).get(f"/api/v1/vouchers/{code}/templates/sow.pdf").status_code
        == 403
    )


def test_submit_stores_the_exact_bytes_and_sets_the_review_target(world: Any) -> None:
    voucher = world["voucher"]
    upload = signed(voucher, name="../../etc/passwd.pdf")
    content = upload.read()
    upload.seek(0)
    with time_machine.travel(DAY, tick=False):
        response = world["partner"].post(
            f"/api/v1/vouchers/{voucher.code}/requests/",
            {
                "kind": "initial",
                "document": upload,
                "sow_value": "60000.00",
                "customer_signer": "Casey",
                "customer_signed_on": "2024-03-01",
                "partner_signer": "Pat",
                "partner_signed_on": "2024-03-01",
            },
            format="multipart",
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "submitted" and body["due_by"] == "2024-03-06"  # Fri + 3 business days
    document = RequestDocument.objects.get()
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    file_name = cast(str, document.file.name)  # a stored file has a name
    assert ".." not in file_name and "passwd" not in file_name
    with document.file.open("rb") as stored:
        assert stored.read() == content
    download = world["partner"].get(body["documents"][0]["url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == content
    assert (
        "attachment" in download["Content-Disposition"]
        and "passwd" not in download["Content-Disposition"]
    )


def test_refused_document_stores_nothing(world: Any) -> None:
    voucher = world["voucher"]
    with time_machine.travel(DAY, tick=False):
        response = submit(world["partner"], voucher, document=signed(voucher, "poe"))
    assert response.status_code == 400 and response.json()["rule"] == "R-DOC-1"
    assert "document" in response.json()["fields"]
    assert not PaymentRequest.objects.exists() and not RequestDocument.objects.exists()
    assert (
        not default_storage.exists(f"requests/{voucher.pk}")
        or not default_storage.listdir(f"requests/{voucher.pk}")[1]
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"customer_signer": " "}, "customer_signer"),
        ({"partner_signed_on": "2024-03-02"}, "partner_signed_on"),
        ({"customer_signed_on": "2024-02-01"}, "customer_signed_on"),
        ({"sow_value": ""}, "sow_value"),
    ],
)
def test_signatures_and_sow_value_are_required(
    world: Any, overrides: dict[str, Any], field: str
) -> None:
    with time_machine.travel(DAY, tick=False):
        response = submit(world["partner"], world["voucher"], **overrides)
    assert response.status_code == 400 and field in response.json()["fields"], response.json()


def test_one_sow_and_the_poe_after_its_approval(world: Any) -> None:
    voucher, partner = world["voucher"], world["partner"]
    with time_machine.travel(DAY, tick=False):
        early_final = submit(partner, voucher, "final")
        assert early_final.status_code == 409 and early_final.json()["rule"] == "R-RED-3"
        assert submit(partner, voucher).status_code == 201
        again = submit(partner, voucher)
        assert again.status_code == 409 and again.json()["rule"] == "R-DOC-2"


def test_requests_after_expiry_are_refused(world: Any) -> None:
    voucher = world["voucher"]
    with time_machine.travel(voucher.expires_on + timedelta(days=1), tick=False):
        late = submit(world["partner"], voucher)
    assert late.status_code == 409 and late.json()["rule"] == "R-VOU-2"
    with time_machine.travel(voucher.expires_on, tick=False):
        assert (
            submit(world["partner"], voucher).status_code == 201
        )  # on the expiry date still counts


def test_commercial_journey_pays_half_then_the_rest_in_local_currency(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    voucher, partner, reviewer = world["voucher"], world["partner"], client_for(world["reviewer"])
    with time_machine.travel(DAY, tick=False):
        rid = submit(partner, voucher, sow_value="45000.01").json()["id"]
        queue = reviewer.get("/api/v1/review-queue/").json()["results"]
        assert [r["id"] for r in queue] == [rid]
        with django_capture_on_commit_callbacks(execute=True):
            approved = reviewer.post(f"/api/v1/requests/{rid}/approve/")
        assert (
            approved.status_code == 200 and approved.json()["payout_amount"] == "22500.00"
        )  # floor(45000.01/2)
        [to_partner] = [m for m in mail.outbox if m.subject.startswith("Approved")]
        assert to_partner.to == ["ops@litware.example"]
        # api.md: the customer hears that the SOW is approved, the account team copied.
        [to_customer] = [m for m in mail.outbox if m.subject.endswith("is approved")]
        assert to_customer.subject == f"The SOW for voucher {voucher.code} is approved"
        assert to_customer.to == ["it@contoso.example"]
        assert to_customer.cc == [world["rep"].email]
        assert "Litware can go ahead with the deployment" in to_customer.body
        [payment] = partner.get("/api/v1/payments/").json()["results"]
        assert payment["amount_usd"] == "22500.00" and payment["currency"] == "BRL"
        assert payment["fx_rate"] == "4.950000" and payment["amount_local"] == "111375.00"
        assert payment["status"] == "pending" and payment["voucher"] == voucher.code
        final = submit(partner, voucher, "final").json()["id"]
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            approved = reviewer.post(f"/api/v1/requests/{final}/approve/")
        assert approved.json()["payout_amount"] == "22500.01"
        [done] = [m for m in mail.outbox if m.subject.endswith("is fully redeemed")]
        assert done.to == ["it@contoso.example"] and "nothing more for you to do" in done.body
    voucher.refresh_from_db()
    assert voucher.status == "fully_redeemed" and voucher.paid_total == Decimal("45000.01")
    assert sum(p.amount_usd for p in Payment.objects.all()) == Decimal("45000.01")


def test_public_sector_pays_nothing_on_sow_and_everything_on_poe(world: Any, fy24: Any) -> None:
    with time_machine.travel(DAY, tick=False):
        city = CustomerFactory(category=Category.PUBLIC_SECTOR)
        voucher = issue_voucher(
            fy24, city, world["rep"], world["pm"], purchase_amount=Decimal("300000.00")
        )
        partner = world["partner"]
        partner.post(f"/api/v1/vouchers/{voucher.code}/claim/")
        reviewer = client_for(world["reviewer"])
        sow = submit(partner, voucher, sow_value="100000.00").json()["id"]
        assert reviewer.post(f"/api/v1/requests/{sow}/approve/").json()["payout_amount"] == "0.00"
        assert not Payment.objects.filter(voucher=voucher).exists()
        poe = submit(partner, voucher, "final").json()["id"]
        assert (
            reviewer.post(f"/api/v1/requests/{poe}/approve/").json()["payout_amount"] == "30000.00"
        )


def test_information_request_pauses_and_amend_keeps_history(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    voucher, partner, reviewer = world["voucher"], world["partner"], client_for(world["reviewer"])
    with time_machine.travel(DAY, tick=False):  # Friday: due Wednesday 6 March
        rid = submit(partner, voucher).json()["id"]
    with time_machine.travel(date(2024, 3, 4), tick=False):  # Monday: 2 business days left
        missing = reviewer.post(
            f"/api/v1/requests/{rid}/request-info/", {"question": ""}, format="json"
        )
        assert missing.status_code == 400 and "question" in missing.json()["fields"]
        with django_capture_on_commit_callbacks(execute=True):
            asked = reviewer.post(
                f"/api/v1/requests/{rid}/request-info/",
                {"question": "Page 2 unsigned?"},
                format="json",
            )
        assert (
            asked.json()["status"] == "info_requested"
            and "Page 2 unsigned?" in mail.outbox[-1].body
        )
        assert reviewer.post(f"/api/v1/requests/{rid}/approve/").status_code == 409
    with time_machine.travel(date(2024, 3, 11), tick=False):  # a week later the clock resumes
        amended = partner.post(
            f"/api/v1/requests/{rid}/amend/", {"document": signed(voucher)}, format="multipart"
        )
    assert amended.status_code == 200, amended.json()
    body = amended.json()
    assert body["status"] == "submitted" and body["due_by"] == "2024-03-13"  # Mon + 2 business days
    assert [d["version"] for d in body["documents"]] == [1, 2]
    assert [e["action"] for e in body["events"]] == ["submitted", "info_requested", "amended"]


def test_rejected_sow_may_be_corrected_once(world: Any) -> None:
    voucher, partner, reviewer = world["voucher"], world["partner"], client_for(world["reviewer"])
    with time_machine.travel(DAY, tick=False):
        first = submit(partner, voucher).json()["id"]
        no_reason = reviewer.post(
            f"/api/v1/requests/{first}/reject/", {"reason": ""}, format="json"
        )
        assert no_reason.status_code == 400
        reviewer.post(f"/api/v1/requests/{first}/reject/", {"reason": "Wrong value"}, format="json")
        second = submit(partner, voucher)
        assert second.status_code == 201 and second.json()["attempt"] == 2
        reviewer.post(
            f"/api/v1/requests/{second.json()['id']}/reject/",
            {"reason": "Still wrong"},
            format="json",
        )
        third = submit(partner, voucher)
    assert third.status_code == 409 and third.json()["rule"] == "R-DOC-2"


def test_approval_needs_an_fx_rate(world: Any) -> None:
    FxRate.objects.all().delete()
    with time_machine.travel(DAY, tick=False):
        rid = submit(world["partner"], world["voucher"]).json()["id"]
        response = client_for(world["reviewer"]).post(f"/api/v1/requests/{rid}/approve/")
    assert response.status_code == 409 and response.json()["rule"] == "R-PAY-1"
    assert PaymentRequest.objects.get().status == "submitted" and not Payment.objects.exists()


def test_second_approval_and_taken_requests_are_refused(world: Any) -> None:
    with time_machine.travel(DAY, tick=False):
        rid = submit(world["partner"], world["voucher"]).json()["id"]
        first, second = client_for(world["reviewer"]), client_for(user_for_role(Role.REVIEWER))
        assert first.post(f"/api/v1/requests/{rid}/take/").status_code == 200
        taken = second.post(f"/api/v1/requests/{rid}/approve/")
        assert taken.status_code == 409 and taken.json()["code"] == "taken"
        assert first.post(f"/api/v1/requests/{rid}/approve/").status_code == 200
        again = first.post(f"/api/v1/requests/{rid}/approve/")
    assert again.status_code == 409 and again.json()["rule"] == "R-PAY-4"
    assert Payment.objects.count() == 1


def test_roles_and_tenants(world: Any) -> None:
    with time_machine.travel(DAY, tick=False):
        rid = submit(world["partner"], world["voucher"]).json()["id"]
    other_partner = client_for(user_for_role(Role.PARTNER))
    assert other_partner.get(f"/api/v1/requests/{rid}/").status_code == 404
    assert other_partner.get(f"/api/v1/requests/{rid}/documents/1.pdf").status_code == 404
    assert world["partner"].post(f"/api/v1/requests/{rid}/approve/").status_code == 403
    assert client_for(world["pm"]).post(f"/api/v1/requests/{rid}/approve/").status_code == 403
    assert (
        client_for(world["reviewer"])
        .post(f"/api/v1/vouchers/{world['voucher'].code}/requests/", {}, format="multipart")
        .status_code
        == 403
    )
    assert world["partner"].get("/api/v1/review-queue/").status_code == 403
    assert (
        client_for(user_for_role(Role.CUSTOMER)).get(f"/api/v1/requests/{rid}/").status_code == 404
    )


def test_statements_batches_and_disputes(world: Any) -> None:
    voucher, partner, reviewer, pm = (
        world["voucher"],
        world["partner"],
        client_for(world["reviewer"]),
        client_for(world["pm"]),
    )
    with time_machine.travel(DAY, tick=False):
        rid = submit(partner, voucher).json()["id"]
        reviewer.post(f"/api/v1/requests/{rid}/approve/")
        csv_text = partner.get("/api/v1/statements/2024-03.csv").content.decode()
        assert (
            "25000.00" in csv_text
            and "123750.00" in csv_text
            and csv_text.strip().splitlines()[-1].startswith("total")
        )
        pdf = partner.get("/api/v1/statements/2024-03.pdf")
        assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
        assert partner.get("/api/v1/statements/2024-13.csv").status_code == 400
        assert partner.post("/api/v1/payment-batches/").status_code == 403
        batch = pm.post("/api/v1/payment-batches/")
        assert (
            batch.status_code == 201
            and b"25000.00" in batch.content
            and b"123750.00" in batch.content
        )
        assert pm.post("/api/v1/payment-batches/").status_code == 409  # nothing left to export
        batch_id = pm.get("/api/v1/payment-batches/").json()["results"][0]["id"]
        confirm = f"/api/v1/payment-batches/{batch_id}/confirm/"
        missing = pm.post(confirm, {"reference": " "}, format="json")
        assert missing.status_code == 400 and missing.json()["rule"] == "R-PAY-2"
        assert pm.post(confirm, {"reference": "PC-1"}, format="json").status_code == 200
        assert pm.post(confirm, {"reference": "PC-1"}, format="json").status_code == 409
        assert partner.get("/api/v1/payments/").json()["results"][0]["status"] == "paid"
        dispute = partner.post(
            "/api/v1/disputes/", {"request": rid, "text": "SOW value was 60k"}, format="json"
        )
        assert dispute.status_code == 201
        did = dispute.json()["id"]
        assert (
            client_for(user_for_role(Role.PARTNER)).get(f"/api/v1/disputes/{did}/").status_code
            == 404
        )
        too_much = reviewer.post(
            f"/api/v1/disputes/{did}/resolve/",
            {"uphold": True, "resolution": "ok", "adjustment_usd": "25000.01"},
            format="json",
        )
        assert too_much.status_code == 400 and too_much.json()["rule"] == "R-CAP-5"
        resolved = reviewer.post(
            f"/api/v1/disputes/{did}/resolve/",
            {"uphold": True, "resolution": "Agreed", "adjustment_usd": "100.00"},
            format="json",
        )
        assert resolved.json()["status"] == "upheld"
        statement = partner.get("/api/v1/statements/2024-03.csv").content.decode()
    assert "Dispute adjustment" in statement and "25100.00" in statement


def test_extension_once_after_sow_approval(world: Any) -> None:
    voucher = world["voucher"]
    customer = client_for(voucher.customer.contacts.first())
    with time_machine.travel(DAY, tick=False):
        early = customer.post(
            f"/api/v1/vouchers/{voucher.code}/extension/", {"reason": "Delays"}, format="json"
        )
        assert early.status_code == 409 and early.json()["rule"] == "R-VOU-9"
        rid = submit(world["partner"], voucher).json()["id"]
        client_for(world["reviewer"]).post(f"/api/v1/requests/{rid}/approve/")
        asked = customer.post(
            f"/api/v1/vouchers/{voucher.code}/extension/", {"reason": "Delays"}, format="json"
        )
        assert asked.status_code == 201
        assert (
            world["partner"]
            .post(f"/api/v1/vouchers/{voucher.code}/extension/", {"reason": "x"}, format="json")
            .status_code
            == 403
        )
        decided = client_for(world["reviewer"]).post(
            f"/api/v1/extensions/{asked.json()['id']}/decide/", {"approve": True}, format="json"
        )
        assert (
            decided.json()["new_expires_on"]
            == (voucher.expires_on + timedelta(days=60)).isoformat()
        )
        assert (
            customer.get(f"/api/v1/vouchers/{voucher.code}/").json()["expires_on"]
            == decided.json()["new_expires_on"]
        )
        again = customer.post(
            f"/api/v1/vouchers/{voucher.code}/extension/", {"reason": "More"}, format="json"
        )
    assert again.status_code == 409 and again.json()["rule"] == "R-VOU-9"
