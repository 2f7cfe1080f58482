"""No lost work, server side: the answers static/js/keepform.js relies on (a success says
where to go instead of redirecting, an expired session says 401 instead of drawing the
sign-in page), refusals of the fields and of the file in one round, and a refused review
decision that keeps what the reviewer typed."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from redemptions.models import PaymentRequest
from tests.signing import signed_template
from tests.test_redemption_pages import DAY, as_user, form, submit_sow, world

pytestmark = [pytest.mark.django_db]
__all__ = ["world"]  # the fixture, shared with the page tests

KEEP = {"X-Keep-Form": "1"}


def test_session_state_says_whether_signed_in_with_a_fresh_token(world: Any) -> None:
    anonymous = Client().get("/session/")
    assert anonymous.status_code == 200 and anonymous.json()["authenticated"] is False
    signed_in = as_user(world["partner"]).get("/session/")
    body = signed_in.json()
    assert body["authenticated"] is True and len(body["csrf"]) >= 32
    assert signed_in["Cache-Control"] == "no-store"


def test_a_kept_form_that_succeeds_says_where_to_go(world: Any) -> None:
    voucher = world["voucher"]
    with time_machine.travel(DAY, tick=False):
        partner = as_user(world["partner"])
        sent = partner.post(f"/vouchers/{voucher.code}/requests/new/", form(voucher), headers=KEEP)
    created = PaymentRequest.objects.get()
    assert sent.status_code == 204 and sent["X-Location"] == f"/requests/{created.pk}/"
    # The flash message waits for the page the browser then opens.
    with time_machine.travel(DAY, tick=False):
        page = partner.get(sent["X-Location"]).content.decode()
    assert "review target is 6 Mar 2024" in page
    # Without the header, the same form still redirects as ever.
    with time_machine.travel(DAY, tick=False):
        plain = partner.post(f"/vouchers/{voucher.code}/requests/new/", form(voucher))
    assert plain.status_code in (400, 409)  # one SOW only; the refusal is drawn, not moved


def test_an_expired_session_answers_401_not_the_sign_in_page(world: Any) -> None:
    voucher = world["voucher"]
    anonymous = Client()
    kept = anonymous.post(
        f"/vouchers/{voucher.code}/requests/new/", {"kind": "initial"}, headers=KEEP
    )
    assert kept.status_code == 401 and kept["HX-Trigger"] == "session-expired"
    preview = anonymous.post(
        f"/vouchers/{voucher.code}/requests/preview/",
        {"sow_value": "1000", "kind": "initial"},
        HTTP_HX_REQUEST="true",
    )
    assert preview.status_code == 401 and preview["HX-Reswap"] == "none"
    assert b"Sign in" not in preview.content
    # An ordinary page request still goes to the sign-in page.
    page = anonymous.get(f"/vouchers/{voucher.code}/")
    assert page.status_code == 302 and page["Location"].startswith("/login/?next=")


def test_fields_and_file_are_refused_in_one_round(world: Any) -> None:
    voucher = world["voucher"]
    wrong_file = signed_template(voucher=voucher, kind="poe")  # the POE, not the SOW
    with time_machine.travel(DAY, tick=False):
        partner = as_user(world["partner"])
        # A field the form itself refuses (no signer) and the wrong template.
        body = form(voucher, customer_signer="")
        body["document"] = SimpleUploadedFile("x.pdf", wrong_file)
        page = partner.post(f"/vouchers/{voucher.code}/requests/new/", body)
        text = page.content.decode()
        assert page.status_code == 400
        assert "This field is required." in text and "FTDV-SOW-v1" in text
        # A field the service refuses (signed before the voucher was issued) and the file.
        body = form(voucher, customer_signed_on="2020-01-01")
        body["document"] = SimpleUploadedFile("x.pdf", wrong_file)
        text = partner.post(f"/vouchers/{voucher.code}/requests/new/", body).content.decode()
        assert "signed before the voucher was issued" in text and "FTDV-SOW-v1" in text
        api = APIClient()
        api.force_authenticate(world["partner"])
        answer = api.post(
            f"/api/v1/vouchers/{voucher.code}/requests/",
            {
                "kind": "initial",
                "document": SimpleUploadedFile("x.pdf", wrong_file),
                "sow_value": "30000",
                "customer_signer": "Casey",
                "customer_signed_on": "2020-01-01",
                "partner_signer": "Pat",
                "partner_signed_on": "2024-03-01",
            },
            format="multipart",
        )
    assert answer.status_code == 400
    body = answer.json()
    assert body["rule"] == "R-DOC-1" and "customer_signed_on" in body["fields"]
    assert {v["rule"] for v in body["violations"]} >= {"R-DOC-1"}
    assert not PaymentRequest.objects.exists()


def test_a_refused_decision_is_drawn_in_the_review_screen(world: Any) -> None:
    with time_machine.travel(DAY, tick=False):
        sow = submit_sow(world)
        reviewer = as_user(world["reviewer"])
        blank = reviewer.post(f"/review/{sow.pk}/reject/", {"reason": "   "})
        assert blank.status_code == 400
        assert 'role="alert" id="refusal"' in blank.content.decode()
        assert "Give the partner the reason" in blank.content.decode()
        assert reviewer.post(f"/review/{sow.pk}/reject/", {"reason": "No."}).status_code == 302
        again = reviewer.post(f"/review/{sow.pk}/reject/", {"reason": "Page 2 is unsigned."})
    assert again.status_code == 409 and "already rejected" in again.content.decode()
    sow.refresh_from_db()
    assert (sow.status, sow.rejection_reason) == ("rejected", "No.")


@pytest.mark.parametrize("day", [date(2024, 3, 1)])
def test_the_draft_script_and_session_dialog_are_on_every_page(world: Any, day: date) -> None:
    with time_machine.travel(day, tick=False):
        page = as_user(world["partner"]).get(f"/vouchers/{world['voucher'].code}/")
    text = page.content.decode()
    assert 'src="/static/js/keepform.js"' in text and 'id="session-dialog"' in text
    assert "data-keep-form" in text
    assert "/login/?next=/session/signed-in-again/" in text


def test_a_missing_page_is_the_product_s_even_with_debug(world: Any, settings: Any) -> None:
    """`make run` runs with DEBUG; another organisation's voucher is still the portal's
    own 404 page, not Django's list of every URL pattern."""
    settings.DEBUG = True
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "core.middleware.ProductNotFoundMiddleware"]
    stranger = as_user(world["customer"])
    from tests.factories import CustomerFactory, issue_voucher, user_for_role

    with time_machine.travel(DAY, tick=False):
        other = issue_voucher(
            world["voucher"].program,
            CustomerFactory(),
            user_for_role("field_rep"),
            world["pm"],
        )
        for path in (f"/vouchers/{other.code}/", "/no-such-page/"):
            page = stranger.get(path)
            text = page.content.decode()
            assert page.status_code == 404, path
            assert "There is nothing at this address for your account" in text
            assert "URLconf" not in text and "urlpatterns" not in text
        api = stranger.get(f"/api/v1/vouchers/{other.code}/")
    assert api.status_code == 404 and api.json()["code"] == "not_found"
