"""Partner redemption and QTM review in Chromium: a partner claims from a code, downloads
the SOW, uploads it (a wrong PDF first) and follows the status; a reviewer asks for
information, the partner amends, the reviewer approves, and the payment shows on the
payments page and statement."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine

from core.choices import Role
from payments.models import FxRate
from redemptions.models import PaymentRequest
from tests.factories import CustomerFactory, PartnerFactory, issue_voucher, user_for_role
from tests.signing import sign_both, signed_template

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pass-word-123"


@pytest.fixture
def in_fy24() -> Any:
    with time_machine.travel(datetime(2024, 3, 1, 9, 0, tzinfo=UTC), tick=True):
        yield


@pytest.fixture
def voucher(fy24: Any, in_fy24: Any) -> Any:
    customer = CustomerFactory(name="Contoso")
    return issue_voucher(
        fy24,
        customer,
        user_for_role(Role.FIELD_REP),
        user_for_role(Role.PROGRAM_MANAGER),
        purchase_amount=Decimal("400000.00"),
    )


def sign_in(page: Any, live_server: Any, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")


def fill_request(page: Any, file: Path, sow_value: str = "") -> None:
    page.get_by_label("Signed document (PDF)").set_input_files(str(file))
    if sow_value:
        page.get_by_label("SOW value (USD)").fill(sow_value)
    page.get_by_label("Signed for the customer by").fill("Casey Customer")
    page.get_by_label("Customer signature date").fill("2024-03-01")
    page.get_by_label("Signed for the partner by").fill("Pat Partner")
    page.get_by_label("Partner signature date").fill("2024-03-01")


def test_partner_claims_downloads_uploads_and_follows(
    live_server: Any, page: Any, voucher: Any, tmp_path: Path
) -> None:
    user_for_role(Role.PARTNER, username="adatum", partner=PartnerFactory(name="Adatum"))
    sign_in(page, live_server, "adatum")
    page.get_by_role("link", name="Claim", exact=True).click()
    page.get_by_label("Voucher code").fill(voucher.code.lower().replace("-", " "))
    page.get_by_role("button", name="Claim").click()
    page.get_by_text("You now redeem voucher").wait_for()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the SOW template").click()
    sow = tmp_path / "sow.pdf"
    info.value.save_as(sow)
    assert sow.read_bytes()[:5] == b"%PDF-"
    wrong = tmp_path / "wrong.pdf"
    wrong.write_bytes(signed_template(voucher=voucher, kind="poe"))
    fill_request(page, wrong, "30000")
    page.locator("#payout-preview strong").get_by_text("$15,000.00").wait_for()
    page.get_by_role("button", name="Submit request").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "FTDV-SOW-v1" in alert.inner_text() and "R-DOC-1" in alert.inner_text()
    sow.write_bytes(sign_both(sow.read_bytes()))  # the downloaded template, signed by both
    fill_request(page, sow, "30000")
    page.get_by_role("button", name="Submit request").click()
    page.get_by_text("review target is 6 Mar 2024").wait_for()
    assert page.locator(".badge--submitted").first.inner_text() == "Submitted"
    assert PaymentRequest.objects.get().documents.get().sha256


def test_review_asks_partner_amends_reviewer_approves_payment_shows(
    live_server: Any, page: Any, voucher: Any, tmp_path: Path
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from redemptions.services import request_submit
    from vouchers.services import voucher_claim

    adatum = PartnerFactory(name="Adatum", currency="EUR")
    FxRate.objects.create(
        currency="EUR", rate_per_usd=Decimal("0.920000"), valid_from=date(2023, 7, 1)
    )
    partner = user_for_role(Role.PARTNER, username="adatum", partner=adatum)
    user_for_role(Role.REVIEWER, username="qtm")
    voucher_claim(code=voucher.code, user=partner)
    request = request_submit(
        voucher_id=voucher.pk,
        user=partner,
        kind="initial",
        sow_value=Decimal("30000"),
        upload=SimpleUploadedFile("s.pdf", signed_template(voucher=voucher, kind="sow")),
        customer_signer="Casey",
        customer_signed_on=voucher.issued_on,
        partner_signer="Pat",
        partner_signed_on=voucher.issued_on,
    )

    sign_in(page, live_server, "qtm")
    page.get_by_role("link", name="Review queue").first.click()
    page.get_by_role("link", name="Initial payment request (SOW)").click()
    page.get_by_role("button", name="Take this request").click()
    page.get_by_label("Ask for more information").fill(
        "Please confirm the billable services on page 2."
    )
    page.get_by_role("button", name="Send question").click()
    page.get_by_text("review clock is paused").wait_for()

    sign_in(page, live_server, "adatum")
    # The home page leads to the question, with the deadline.
    page.get_by_role("link", name="Answer the reviewer: Contoso").click()
    assert "Please confirm the billable services" in page.get_by_role("status").first.inner_text()
    amended = tmp_path / "sow-v2.pdf"
    amended.write_bytes(signed_template(voucher=voucher, kind="sow"))
    page.get_by_label("Corrected document (PDF, optional)").set_input_files(str(amended))
    page.get_by_label("Your answer").fill("Page 2 lists them; the corrected SOW is attached.")
    page.get_by_role("button", name="Send the answer").click()
    page.get_by_text("Your answer was sent").wait_for()

    sign_in(page, live_server, "qtm")
    page.goto(f"{live_server.url}/review/{request.pk}/")
    assert "Page 2 lists them" in page.locator("#partner-answer").inner_text()
    # Approving asks first, with the amount and the partner; Cancel sends nothing.
    # The decision bar stays in view above the document; its button is the form's.
    page.get_by_role("region", name="Decision").get_by_role(
        "button", name="Approve and pay $15,000.00"
    ).click()
    dialog = page.get_by_role("dialog")
    assert "pay Adatum $15,000.00 USD, in EUR" in dialog.inner_text()
    dialog.get_by_role("button", name="Cancel").click()
    assert PaymentRequest.objects.get(pk=request.pk).status == "submitted"
    page.locator("#decide").get_by_role("button", name="Approve and pay $15,000.00").click()
    dialog.get_by_role("button", name="Approve and pay $15,000.00").click()
    page.get_by_text("Approved; the payment was created").wait_for()

    sign_in(page, live_server, "adatum")
    page.get_by_role("link", name="Payments").click()
    row = page.locator("table").last.inner_text()
    assert "13,800.00 EUR" in row and "expected 15 Mar 2024" in row  # 15,000 USD at 0.92

    # The program manager exports the batch, then confirms it with Payment Central's
    # reference; the partner sees it paid under that reference.
    from payments.services import batch_export

    batch, _ = batch_export(user=None)
    user_for_role(Role.PROGRAM_MANAGER, username="pm")
    sign_in(page, live_server, "pm")
    page.goto(f"{live_server.url}/payments/")
    assert f"In batch {batch.pk}" in page.locator("table").last.inner_text()
    page.get_by_role("link", name="Confirm paid…").click()
    assert "EUR 13,800.00" in page.locator(".facts").inner_text()
    page.get_by_role("button", name="Confirm $15,000.00 paid").click()
    page.get_by_role("alert").get_by_text("Enter Payment Central's reference").wait_for()
    page.get_by_label("Payment Central reference of the payment run").fill("PC-2024-0311")
    page.get_by_role("button", name="Confirm $15,000.00 paid").click()
    page.get_by_text(f"Batch {batch.pk} confirmed paid").wait_for()

    sign_in(page, live_server, "adatum")
    page.get_by_role("link", name="Payments").click()
    assert "ref. PC-2024-0311" in page.locator("table").last.inner_text()
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV").first.click()
    statement = tmp_path / "statement.csv"
    info.value.save_as(statement)
    text = statement.read_text()
    assert "15000.00" in text and "13800.00" in text
