"""No lost work, in Chromium at desk and phone widths: a refusal keeps the chosen file, a
session that expires mid-form asks to sign in again in another tab and the form is then
sent as it stands, the live preview never draws the sign-in page, and typed answers come
back after a reload."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile

from core.choices import Role
from redemptions.models import PaymentRequest
from redemptions.services import request_ask, request_submit
from tests.factories import PartnerFactory, user_for_role
from tests.signing import signed_template
from tests.test_browser_redemption import PASSWORD, fill_request, in_fy24, sign_in, voucher
from vouchers.services import voucher_claim

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["in_fy24", "voucher"]  # fixtures shared with the redemption journey
WIDTHS = {"desk": (1280, 800), "phone": (375, 812)}


@pytest.fixture(params=sorted(WIDTHS))
def sized(request: Any, page: Any) -> Any:
    width, height = WIDTHS[request.param]
    page.set_viewport_size({"width": width, "height": height})
    return page


def chosen_files(page: Any) -> int:
    return int(page.locator("#id_document").evaluate("el => el.files.length"))


def test_a_refusal_keeps_the_file_and_an_expired_session_keeps_the_form(
    live_server: Any, sized: Any, voucher: Any, tmp_path: Path
) -> None:
    page = sized
    partner = user_for_role(Role.PARTNER, username="adatum", partner=PartnerFactory(name="Adatum"))
    voucher_claim(code=voucher.code, user=partner)
    sow = tmp_path / "sow.pdf"
    sow.write_bytes(signed_template(voucher=voucher, kind="sow"))
    sign_in(page, live_server, "adatum")
    page.goto(f"{live_server.url}/vouchers/{voucher.code}/")

    # A date the server refuses: the refusal is drawn in place, the file stays chosen.
    fill_request(page, sow, "30000")
    page.get_by_label("Customer signature date").fill("2020-01-01")
    page.get_by_role("button", name="Submit request").click()
    page.get_by_text("signed before the voucher was issued").first.wait_for()
    assert page.url.endswith(f"/vouchers/{voucher.code}/")
    assert chosen_files(page) == 1
    assert page.get_by_label("SOW value (USD)").input_value() == "30000"
    page.get_by_label("Customer signature date").fill("2024-03-01")

    # The session ends while the form is open (as SESSION_COOKIE_AGE would end it).
    Session.objects.all().delete()
    page.get_by_label("SOW value (USD)").fill("31000")  # the live preview asks the server
    dialog = page.get_by_role("dialog", name="You were signed out")
    dialog.wait_for()
    assert "Sign in" not in page.locator("#payout-preview").inner_text()
    dialog.get_by_role("button", name="Back to the form").click()
    page.get_by_role("button", name="Submit request").click()
    dialog.wait_for()
    assert not PaymentRequest.objects.exists()

    # Signing in again in another tab; the form is then sent as it stands, file included.
    with page.context.expect_page() as opened:
        dialog.get_by_role("link", name="Sign in in a new tab").click()
    other = opened.value
    other.get_by_label("Username").fill("adatum")
    other.get_by_label("Password").fill(PASSWORD)
    other.get_by_role("button", name="Sign in").click()
    other.get_by_text("You are signed in again").wait_for()
    other.close()
    dialog.get_by_role("button", name="Back to the form").click()
    assert chosen_files(page) == 1
    page.get_by_role("button", name="Submit request").click()
    page.get_by_text("review target is 6 Mar 2024").wait_for()
    created = PaymentRequest.objects.get()
    assert created.sow_value == 31000 and str(created.customer_signed_on) == "2024-03-01"
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_a_typed_answer_comes_back_after_a_reload(
    live_server: Any, sized: Any, voucher: Any
) -> None:
    page = sized
    partner = user_for_role(Role.PARTNER, username="adatum", partner=PartnerFactory(name="Adatum"))
    reviewer = user_for_role(Role.REVIEWER)
    voucher_claim(code=voucher.code, user=partner)
    request = request_submit(
        voucher_id=voucher.pk,
        user=partner,
        kind="initial",
        sow_value=Decimal(30000),
        upload=SimpleUploadedFile("s.pdf", signed_template(voucher=voucher, kind="sow")),
        customer_signer="Casey",
        customer_signed_on=voucher.issued_on,
        partner_signer="Pat",
        partner_signed_on=voucher.issued_on,
    )
    request_ask(request_id=request.pk, user=reviewer, question="Which tenant?")
    sign_in(page, live_server, "adatum")
    page.goto(f"{live_server.url}/requests/{request.pk}/")
    page.get_by_label("Your answer").fill("The EU tenant.")
    page.reload()
    page.get_by_text("is filled in again").wait_for()
    assert page.get_by_label("Your answer").input_value() == "The EU tenant."
    page.get_by_role("button", name="Send the answer").click()
    page.get_by_text("Your answer was sent").wait_for()
    request.refresh_from_db()
    assert (request.status, request.answer) == ("submitted", "The EU tenant.")
    # Accepted: the draft is gone.
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('draft:'))") == []
