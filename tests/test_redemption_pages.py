"""The partner, reviewer and payment pages and who may reach them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from core.choices import Role
from core.models import Event
from payments.models import FxRate
from redemptions.models import PaymentRequest
from redemptions.services import request_submit
from tests.factories import CustomerFactory, PartnerFactory, issue_voucher, user_for_role
from tests.signing import signed_template
from tests.test_document_trust import HOSTILE
from vouchers.services import voucher_claim

pytestmark = [pytest.mark.django_db]
DAY = date(2024, 3, 1)


def as_user(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def submit_sow(world: Any) -> PaymentRequest:
    """The partner's signed SOW for the world's voucher, submitted on DAY."""
    return request_submit(
        voucher_id=world["voucher"].pk,
        user=world["partner"],
        kind="initial",
        sow_value=Decimal("30000"),
        upload=SimpleUploadedFile("s.pdf", signed_template(voucher=world["voucher"], kind="sow")),
        customer_signer="Casey",
        customer_signed_on=DAY,
        partner_signer="Pat",
        partner_signed_on=DAY,
    )


@pytest.fixture
def world(fy24: Any) -> Any:
    cache.clear()
    with time_machine.travel(DAY, tick=False):
        customer = CustomerFactory(name="Contoso")
        voucher = issue_voucher(
            fy24, customer, user_for_role(Role.FIELD_REP), user_for_role(Role.PROGRAM_MANAGER)
        )
        partner_user = user_for_role(Role.PARTNER, partner=PartnerFactory(name="Adatum"))
        voucher_claim(code=voucher.code, user=partner_user)
        FxRate.objects.create(
            currency="USD", rate_per_usd=Decimal("1"), valid_from=date(2023, 7, 1)
        )
        yield {
            "voucher": voucher,
            "partner": partner_user,
            "reviewer": user_for_role(Role.REVIEWER),
            "customer": user_for_role(Role.CUSTOMER, customer=customer),
            "pm": user_for_role(Role.PROGRAM_MANAGER),
        }


def form(
    voucher: Any, kind: str = "initial", pdf_kind: str = "sow", **overrides: Any
) -> dict[str, Any]:
    return {
        "kind": kind,
        "document": SimpleUploadedFile("sow.pdf", signed_template(voucher=voucher, kind=pdf_kind)),
        "sow_value": "30000",
        "customer_signer": "Casey",
        "customer_signed_on": "2024-03-01",
        "partner_signer": "Pat",
        "partner_signed_on": "2024-03-01",
        **overrides,
    }


def test_partner_voucher_page_shows_next_step_templates_and_form(world: Any) -> None:
    with time_machine.travel(DAY, tick=False):
        page = as_user(world["partner"]).get(f"/vouchers/{world['voucher'].code}/").content.decode()
    assert (
        "Submit the signed SOW" in page
        and "templates/sow.pdf" in page
        and 'enctype="multipart/form-data"' in page
    )


def test_payout_preview_partial(world: Any) -> None:
    with time_machine.travel(DAY, tick=False):
        partial = as_user(world["partner"]).post(
            f"/vouchers/{world['voucher'].code}/requests/preview/",
            {"kind": "initial", "sow_value": "30000"},
        )
    assert b"15,000.00" in partial.content and b"R-RED-2" in partial.content


def test_wrong_pdf_is_refused_in_the_page_and_nothing_is_stored(world: Any) -> None:
    with time_machine.travel(DAY, tick=False):
        response = as_user(world["partner"]).post(
            f"/vouchers/{world['voucher'].code}/requests/new/",
            form(world["voucher"], pdf_kind="poe"),
        )
    assert response.status_code == 400
    assert b"R-DOC-1" in response.content and b"FTDV-SOW-v1" in response.content
    assert not PaymentRequest.objects.exists()


REFUSED_IN_THE_PAGE = {
    "unsigned": "This is the template without signatures.",
    "one_signature": "carries one signature",
    "changed_after_signing": "was changed after",
    "scan_wrong_voucher": "of the scan is the template for voucher 2222-3333-4444-5555",
}


@pytest.mark.parametrize("code", sorted(REFUSED_IN_THE_PAGE))
def test_what_r_doc_1_refuses_is_refused_in_the_page(world: Any, code: str) -> None:
    """R-DOC-1 (round 2): the downloaded template with two typed names is not a signed
    document, nor one signed by one party, nor one changed after signing, nor the scan of
    another voucher's template."""
    voucher = world["voucher"]
    content = HOSTILE[code](voucher)
    with time_machine.travel(DAY, tick=False):
        response = as_user(world["partner"]).post(
            f"/vouchers/{voucher.code}/requests/new/",
            form(voucher, document=SimpleUploadedFile("sow.pdf", content)),
        )
    assert response.status_code == 400
    page = response.content.decode()
    assert "R-DOC-1" in page and REFUSED_IN_THE_PAGE[code] in page, page
    assert not PaymentRequest.objects.exists()


def test_partner_submits_then_follows_the_request(world: Any) -> None:
    with time_machine.travel(DAY, tick=False):
        client = as_user(world["partner"])
        done = client.post(
            f"/vouchers/{world['voucher'].code}/requests/new/", form(world["voucher"]), follow=True
        )
    assert b"review target is 6 Mar 2024" in done.content
    assert b"Timeline" in done.content and b"SOW-" in done.content


def test_reviewer_works_the_queue(world: Any) -> None:
    with time_machine.travel(DAY, tick=False):
        request = submit_sow(world)
    with time_machine.travel(date(2024, 3, 5), tick=False):  # due 6 March: at risk
        reviewer = as_user(world["reviewer"])  # sessions last 8 hours: sign in on the day
        queue = reviewer.get("/review/").content.decode()
        assert "At risk" in queue and world["voucher"].code in queue
        assert "Contoso" in reviewer.get("/review/?segment=enterprise").content.decode()
        assert "The queue is empty" in reviewer.get("/review/?kind=final").content.decode()
        screen = reviewer.get(f"/review/{request.pk}/").content.decode()
        assert "Automatic checks" in screen and "Approve and pay $15,000.00" in screen
        inline = reviewer.get(f"/review/{request.pk}/documents/1/")
        assert (
            inline["Content-Disposition"].startswith("inline")
            and inline["X-Frame-Options"] == "SAMEORIGIN"
        )
        reviewer.post(f"/review/{request.pk}/ask/", {"question": ""})
        request.refresh_from_db()
        assert request.status == "submitted"
        reviewer.post(f"/review/{request.pk}/approve/")
    request.refresh_from_db()
    assert request.status == "approved" and request.payout_amount == Decimal("15000.00")
    with time_machine.travel(date(2024, 3, 5), tick=False):
        payments = as_user(world["partner"]).get("/payments/").content.decode()
    assert "15,000.00" in payments and "statements/2024-03.pdf" in payments


def test_overdue_is_marked(world: Any) -> None:
    with time_machine.travel(DAY, tick=False):
        submit_sow(world)
    with time_machine.travel(date(2024, 3, 7), tick=False):
        assert "Overdue" in as_user(world["reviewer"]).get("/review/").content.decode()


@pytest.mark.parametrize(
    ("role", "paths"),
    [
        (Role.PARTNER, ["/review/", "/review/1/", "/extensions/", "/disputes/1/resolve/"]),
        (Role.CUSTOMER, ["/review/", "/payments/", "/disputes/", "/requests/999/"]),
        (Role.FIELD_REP, ["/review/", "/payments/", "/extensions/"]),
        (Role.PROGRAM_MANAGER, ["/review/", "/extensions/"]),
    ],
)
def test_pages_a_role_must_not_reach(world: Any, role: str, paths: list[str]) -> None:
    client = as_user(user_for_role(role))
    for path in paths:
        assert client.get(path).status_code in (404, 405), path


def test_another_partner_cannot_see_the_request_page(world: Any) -> None:
    with time_machine.travel(DAY, tick=False):
        request = submit_sow(world)
    assert as_user(user_for_role(Role.PARTNER)).get(f"/requests/{request.pk}/").status_code == 404
    assert as_user(world["customer"]).get(f"/requests/{request.pk}/").status_code == 200


def test_events_cannot_be_edited_or_deleted(world: Any, admin_client: Client) -> None:
    event = Event.objects.filter(subject="voucher").first()
    assert event is not None
    event.reason = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    assert admin_client.get(f"/admin/core/event/{event.pk}/change/").status_code in (200, 302, 404)
    response = admin_client.post(f"/admin/core/event/{event.pk}/change/", {"reason": "x"})
    assert response.status_code in (403, 302, 404)
    assert admin_client.post(
        f"/admin/core/event/{event.pk}/delete/", {"post": "yes"}
    ).status_code in (403, 302, 404)
    assert Event.objects.get(pk=event.pk).reason == ""


def test_decline_is_offered_only_until_a_request_exists(world: Any) -> None:
    """R-VOU-5: once a payment request exists the decline would be refused, so the page no
    longer offers it."""
    path = f"/vouchers/{world['voucher'].code}/"
    with time_machine.travel(DAY, tick=False):
        client = as_user(world["partner"])
        assert "Decline this engagement" in client.get(path).content.decode()
        submit_sow(world)
        assert "Decline this engagement" not in client.get(path).content.decode()
