"""R-VOU-2: an expired voucher says it expired. Every refusal on a voucher past its expiry
date cites R-VOU-2 with that date, never another rule, on the day after it (the nightly
`expire_vouchers` job has not run: the voucher is still issued or claimed) and after the job
marked it expired: payment requests, amendments, SOW/POE templates, claims, forwards,
declines and extensions through the API, and the pages and mails that would offer them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import pytest
import time_machine
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from core.choices import Role
from notifications.models import OutboundMail
from payments.models import FxRate
from redemptions.models import PaymentRequest
from redemptions.services import request_approve, request_ask, request_reject, request_submit
from tests.factories import CustomerFactory, PartnerFactory, issue_voucher, user_for_role
from tests.signing import signed_template
from vouchers import reminders
from vouchers.models import Forward, Voucher
from vouchers.services import voucher_claim, voucher_forward

pytestmark = [pytest.mark.django_db]
DAY = date(2024, 3, 1)
EXPIRES = date(2024, 9, 1)  # DAY + 6 months (R-VOU-2)
LATE = EXPIRES + timedelta(days=1)
API_DATE = "1 Sep 2024"  # the refusal's date, as the API's sentences and every screen write dates
PAGE_DATE = "1 Sep 2024"  # as the pages write them
T = TypeVar("T")


def api_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def page_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def sow_upload(voucher: Voucher, kind: str = "sow") -> SimpleUploadedFile:
    return SimpleUploadedFile(
        f"{kind}.pdf",
        signed_template(voucher=voucher, kind=kind),
        content_type="application/pdf",
    )


def submit_sow(voucher: Voucher, partner: Any) -> PaymentRequest:
    return request_submit(
        voucher_id=voucher.pk,
        user=partner,
        kind="initial",
        sow_value=Decimal("30000"),
        upload=sow_upload(voucher),
        customer_signer="Casey",
        customer_signed_on=DAY,
        partner_signer="Pat",
        partner_signed_on=DAY,
    )


@pytest.fixture
def world(fy24: Any) -> Any:
    """On DAY: Contoso's voucher claimed by Adatum, and Fabrikam's voucher forwarded to
    Litware but not claimed. Both expire on EXPIRES."""
    cache.clear()
    with time_machine.travel(DAY, tick=False):
        rep, pm = user_for_role(Role.FIELD_REP), user_for_role(Role.PROGRAM_MANAGER)
        contoso = CustomerFactory(name="Contoso")
        claimed = issue_voucher(fy24, contoso, rep, pm)
        adatum = user_for_role(Role.PARTNER, partner=PartnerFactory(name="Adatum"))
        voucher_claim(code=claimed.code, user=adatum)
        fabrikam = CustomerFactory(name="Fabrikam")
        fabrikam_contact = user_for_role(Role.CUSTOMER, customer=fabrikam)
        forwarded = issue_voucher(fy24, fabrikam, rep, pm)
        litware_org = PartnerFactory(name="Litware")
        litware = user_for_role(Role.PARTNER, partner=litware_org)
        voucher_forward(
            voucher_id=forwarded.pk, user=fabrikam_contact, partner_id=litware_org.partner_id
        )
        FxRate.objects.create(currency="USD", rate_per_usd=Decimal("1"), valid_from=DAY)
        assert claimed.expires_on == forwarded.expires_on == EXPIRES
        yield {
            "claimed": claimed,
            "adatum": adatum,
            "contoso": user_for_role(Role.CUSTOMER, customer=contoso),
            "forwarded": forwarded,
            "litware": litware,
            "fabrikam": fabrikam_contact,
            "other_partner": PartnerFactory(name="Northwind"),
            "reviewer": user_for_role(Role.REVIEWER),
        }


def before_and_after_the_job(call: Callable[[], T], *vouchers: Voucher) -> list[T]:
    """`call()` the day after the expiry date, first while the voucher is still issued or
    claimed, then after the nightly job marked `vouchers` expired."""
    with time_machine.travel(LATE, tick=False):
        before = call()
        reminders.expire_vouchers()
        assert {v.status for v in Voucher.objects.filter(pk__in=[v.pk for v in vouchers])} == {
            "expired"
        }
        after = call()
    return [before, after]


def assert_expired_refusal(response: Any) -> None:
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["rule"] == "R-VOU-2" and body["code"] == "expired", body
    assert [v["rule"] for v in body["violations"]] == ["R-VOU-2"], body
    assert API_DATE in body["detail"], body


# -- the API --------------------------------------------------------------------------------


def test_submitting_a_request_cites_the_expiry(world: Any) -> None:
    voucher = world["claimed"]

    def submit() -> Any:
        return api_for(world["adatum"]).post(
            f"/api/v1/vouchers/{voucher.code}/requests/",
            {
                "kind": "initial",
                "document": sow_upload(voucher),
                "sow_value": "30000",
                "customer_signer": "Casey",
                "customer_signed_on": "2024-03-01",
                "partner_signer": "Pat",
                "partner_signed_on": "2024-03-01",
            },
            format="multipart",
        )

    for response in before_and_after_the_job(submit, voucher):
        assert_expired_refusal(response)
    assert not PaymentRequest.objects.exists()


def test_amending_a_request_cites_the_expiry(world: Any) -> None:
    """Whether the request waits for the partner's answer or not."""
    voucher, partner = world["claimed"], world["adatum"]
    with time_machine.travel(DAY, tick=False):
        waiting = submit_sow(voucher, partner)
        request_ask(request_id=waiting.pk, user=world["reviewer"], question="Page 2 unsigned?")
        other = issue_voucher(
            voucher.program,
            CustomerFactory(),
            user_for_role(Role.FIELD_REP),
            user_for_role(Role.PROGRAM_MANAGER),
        )
        voucher_claim(code=other.code, user=partner)
        submitted = submit_sow(other, partner)

    def amend() -> list[Any]:
        return [
            api_for(partner).post(
                f"/api/v1/requests/{request.pk}/amend/",
                {"customer_signer": "Casey Customer"},
                format="multipart",
            )
            for request in (waiting, submitted)
        ]

    for responses in before_and_after_the_job(amend, voucher, other):
        for response in responses:
            assert_expired_refusal(response)


@pytest.mark.parametrize("kind", ["sow", "poe"])
def test_template_downloads_cite_the_expiry(world: Any, kind: str) -> None:
    voucher = world["claimed"]

    def download() -> Any:
        return api_for(world["adatum"]).get(f"/api/v1/vouchers/{voucher.code}/templates/{kind}.pdf")

    with time_machine.travel(LATE, tick=False):  # the partner it was forwarded to, unclaimed
        assert_expired_refusal(
            api_for(world["litware"]).get(
                f"/api/v1/vouchers/{world['forwarded'].code}/templates/{kind}.pdf"
            )
        )
    for response in before_and_after_the_job(download, voucher):
        assert_expired_refusal(response)


def test_claiming_cites_the_expiry(world: Any) -> None:
    """The partner it was forwarded to, and the claiming partner's retry of its claim."""
    forwarded, claimed = world["forwarded"], world["claimed"]

    def claim() -> list[Any]:
        return [
            api_for(world["litware"]).post(f"/api/v1/vouchers/{forwarded.code}/claim/"),
            api_for(world["adatum"]).post(f"/api/v1/vouchers/{claimed.code}/claim/"),
        ]

    for responses in before_and_after_the_job(claim, forwarded, claimed):
        for response in responses:
            assert_expired_refusal(response)
    assert Voucher.objects.get(pk=forwarded.pk).partner is None


def test_forwarding_cites_the_expiry_and_mails_no_partner(world: Any) -> None:
    voucher = world["forwarded"]

    def forward() -> Any:
        return api_for(world["fabrikam"]).post(
            f"/api/v1/vouchers/{voucher.code}/forward/",
            {"partner": world["other_partner"].partner_id},
            format="json",
        )

    for response in before_and_after_the_job(forward, voucher):
        assert_expired_refusal(response)
    assert not Forward.objects.filter(partner=world["other_partner"]).exists()
    assert OutboundMail.objects.filter(kind="voucher_forwarded").count() == 1  # DAY's only


def test_declining_cites_the_expiry_and_tells_the_customer_nothing(world: Any) -> None:
    """A claimed voucher is not released back to the customer; "still valid" is not sent."""
    claimed, forwarded = world["claimed"], world["forwarded"]

    def decline_claimed() -> Any:
        return api_for(world["adatum"]).post(
            f"/api/v1/vouchers/{claimed.code}/decline/", {"reason": "At capacity"}, format="json"
        )

    for response in before_and_after_the_job(decline_claimed, claimed):
        assert_expired_refusal(response)
    assert Voucher.objects.get(pk=claimed.pk).partner_id == world["adatum"].partner_id
    Voucher.objects.filter(pk=forwarded.pk).update(status="issued")  # as before the job
    with time_machine.travel(LATE, tick=False):  # forwarded, not claimed
        assert_expired_refusal(
            api_for(world["litware"]).post(
                f"/api/v1/vouchers/{forwarded.code}/decline/", {}, format="json"
            )
        )
    assert not OutboundMail.objects.filter(kind="voucher_declined").exists()


def test_asking_for_an_extension_cites_the_expiry(world: Any) -> None:
    voucher = world["claimed"]
    with time_machine.travel(DAY, tick=False):
        request_approve(request_id=submit_sow(voucher, world["adatum"]).pk, user=world["reviewer"])

    def ask() -> Any:
        return api_for(world["contoso"]).post(
            f"/api/v1/vouchers/{voucher.code}/extension/", {"reason": "Delays"}, format="json"
        )

    for response in before_and_after_the_job(ask, voucher):
        assert_expired_refusal(response)
    with time_machine.travel(LATE, tick=False):  # the page says the same
        page = page_for(world["contoso"]).post(
            f"/vouchers/{voucher.code}/extension/", {"reason": "Delays"}, follow=True
        )
    assert f"expired on {API_DATE}" in page.content.decode()
    assert "(R-VOU-2)" in page.content.decode()
    assert not voucher.extensions.exists()


# -- the pages ------------------------------------------------------------------------------


def assert_says_expired(page: str) -> None:
    assert f"This voucher expired on {PAGE_DATE}" in page and "R-VOU-2" in page


def test_the_partners_voucher_page_says_it_expired_and_offers_no_submission(world: Any) -> None:
    voucher = world["claimed"]

    def look() -> tuple[str, Any]:
        partner = page_for(world["adatum"])
        page = partner.get(f"/vouchers/{voucher.code}/").content.decode()
        posted = partner.post(
            f"/vouchers/{voucher.code}/requests/new/",
            {
                "kind": "initial",
                "document": sow_upload(voucher),
                "sow_value": "30000",
                "customer_signer": "Casey",
                "customer_signed_on": "2024-03-01",
                "partner_signer": "Pat",
                "partner_signed_on": "2024-03-01",
            },
        )
        return page, posted

    for page, posted in before_and_after_the_job(look, voucher):
        assert_says_expired(page)
        assert 'enctype="multipart/form-data"' not in page and "Submit request" not in page
        assert "templates/sow.pdf" not in page and "Submit the signed SOW" not in page
        assert "Decline this engagement" not in page and "left)" not in page
        assert posted.status_code == 400
        assert_says_expired(posted.content.decode())
    assert not PaymentRequest.objects.exists()


def test_a_forwarded_voucher_page_offers_no_claim_once_expired(world: Any) -> None:
    with time_machine.travel(LATE, tick=False):  # after the job it is no longer Litware's
        page = page_for(world["litware"]).get(f"/vouchers/{world['forwarded'].code}/")
    text = page.content.decode()
    assert_says_expired(text)
    assert "Claim voucher" not in text and "Decline this engagement" not in text


def test_the_customers_voucher_page_offers_no_forward_once_expired(world: Any) -> None:
    voucher = world["forwarded"]

    def look() -> str:
        return page_for(world["fabrikam"]).get(f"/vouchers/{voucher.code}/").content.decode()

    for page in before_and_after_the_job(look, voucher):
        assert_says_expired(page)
        assert "Send to partner" not in page


def test_the_request_page_offers_no_amendment_once_expired(world: Any) -> None:
    voucher, partner = world["claimed"], world["adatum"]
    with time_machine.travel(DAY, tick=False):
        request = submit_sow(voucher, partner)
        request_ask(request_id=request.pk, user=world["reviewer"], question="Page 2 unsigned?")

    def look() -> str:
        return page_for(partner).get(f"/requests/{request.pk}/").content.decode()

    for page in before_and_after_the_job(look, voucher):
        assert "Page 2 unsigned?" in page
        assert_says_expired(page)
        assert "Send the amendment" not in page


def test_the_partners_voucher_list_shows_no_next_step_once_expired(world: Any) -> None:
    voucher = world["claimed"]

    def look() -> str:
        return page_for(world["adatum"]).get("/vouchers/").content.decode()

    with time_machine.travel(DAY, tick=False):
        assert "Submit the signed SOW" in look()
    for page in before_and_after_the_job(look, voucher):
        assert voucher.code in page and f"Expired {PAGE_DATE}" in page and "R-VOU-2" in page
        assert "Submit the signed SOW" not in page


def test_home_pages_offer_nothing_on_an_expired_voucher(world: Any) -> None:
    """The partner is not asked to claim it, the customer not to forward it."""
    code = world["forwarded"].code
    with time_machine.travel(DAY, tick=False):
        assert code in page_for(world["litware"]).get("/").content.decode()
    with time_machine.travel(LATE, tick=False):
        partner_home = page_for(world["litware"]).get("/").content.decode()
        customer_home = page_for(world["fabrikam"]).get("/").content.decode()
    assert code not in partner_home and "sent you a voucher" not in partner_home
    assert code not in customer_home and "Choose a partner" not in customer_home


# -- the mails ------------------------------------------------------------------------------


def test_decision_mails_after_expiry_offer_no_submission(world: Any) -> None:
    """A request submitted in time may be decided after the expiry date (R-RED-5); the
    partner's mail then says the voucher expired instead of asking for more."""
    voucher, partner, reviewer = world["claimed"], world["adatum"], world["reviewer"]
    program = voucher.program
    others = []
    with time_machine.travel(DAY, tick=False):
        requests = [submit_sow(voucher, partner)]
        for _ in range(2):
            other = issue_voucher(
                program,
                CustomerFactory(),
                user_for_role(Role.FIELD_REP),
                user_for_role(Role.PROGRAM_MANAGER),
            )
            voucher_claim(code=other.code, user=partner)
            others.append(other)
            requests.append(submit_sow(other, partner))
    rejected, approved, asked = requests
    with time_machine.travel(LATE, tick=False):
        request_reject(request_id=rejected.pk, user=reviewer, reason="Wrong value")
        reminders.expire_vouchers()
        request_approve(request_id=approved.pk, user=reviewer)
        request_ask(request_id=asked.pk, user=reviewer, question="Page 2 unsigned?")
    decisions = OutboundMail.objects.filter(kind__startswith="request_").exclude(
        kind="request_submitted"  # QTM's mail of each new request, before the expiry
    )
    mails = {m.kind: m for m in decisions}
    assert set(mails) == {"request_rejected", "request_approved", "request_info_requested"}
    for mail in mails.values():
        for body in (mail.body_text, mail.body_html):
            assert "This voucher expired on 1 September 2024" in body and "R-VOU-2" in body
    for body in (mails["request_rejected"].body_text, mails["request_rejected"].body_html):
        assert "You may submit one corrected request" not in body
    for body in (mails["request_approved"].body_text, mails["request_approved"].body_html):
        assert "submit the signed POE" not in body and "R-RED-5" in body
    for body in (
        mails["request_info_requested"].body_text,
        mails["request_info_requested"].body_html,
    ):
        assert "Answer and amend the request" not in body
