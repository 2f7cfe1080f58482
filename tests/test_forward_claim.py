"""Customers forward vouchers to FastTrack Ready Partners; partners claim or decline
(R-VOU-4, R-VOU-5, R-VOU-7, R-OFFER-3, R-NOT-2)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.test import Client
from rest_framework.test import APIClient

from core.choices import Role
from core.errors import StateConflict
from core.models import Event
from notifications.models import OutboundMail
from tests.factories import CustomerFactory, PartnerFactory, issue_voucher, user_for_role
from vouchers.models import Voucher
from vouchers.services import voucher_decline

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks: Any) -> Any:
    """Runs the after-commit work (mail dispatch) of the calls made inside it."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def world(fy24: Any) -> Any:
    cache.clear()
    with time_machine.travel(date(2024, 3, 1), tick=False):
        customer = CustomerFactory(name="Contoso", company="contoso")
        contact = user_for_role(Role.CUSTOMER, customer=customer, email="it@contoso.example")
        rep, pm = (
            user_for_role(Role.FIELD_REP, email="rep@ms.example"),
            user_for_role(Role.PROGRAM_MANAGER),
        )
        voucher = issue_voucher(fy24, customer, rep, pm)
        adatum = PartnerFactory(name="Adatum", company="adatum")
        partner = user_for_role(Role.PARTNER, partner=adatum, email="ops@adatum.example")
        mail.outbox.clear()
        yield {
            "voucher": voucher,
            "contact": contact,
            "partner": partner,
            "adatum": adatum,
            "fy24": fy24,
        }


def test_forward_mails_the_partner_who_then_sees_and_claims(world: Any, on_commit: Any) -> None:
    code = world["voucher"].code
    partner = client_for(world["partner"])
    assert partner.get(f"/api/v1/vouchers/{code}/").status_code == 404  # not yet forwarded
    with on_commit():
        response = client_for(world["contact"]).post(
            f"/api/v1/vouchers/{code}/forward/",
            {"partner": world["adatum"].partner_id, "message": "<b>Please</b> start in May"},
            format="json",
        )
    assert response.status_code == 200, response.json()
    [sent] = mail.outbox
    assert sent.to == ["ops@adatum.example"] and code in sent.subject
    assert "&lt;b&gt;Please&lt;/b&gt;" in cast(
        str, cast(EmailMultiAlternatives, sent).alternatives[0][0]
    )  # escaped in HTML
    assert partner.get(f"/api/v1/vouchers/{code}/").json()["status"] == "issued"
    mail.outbox.clear()
    with on_commit():
        claimed = partner.post(f"/api/v1/vouchers/{code}/claim/")
    assert claimed.status_code == 200 and claimed.json()["status"] == "claimed"
    assert claimed.json()["partner"] == world["adatum"].partner_id
    [told] = mail.outbox  # R-NOT-2: the customer hears of the acceptance
    assert told.to == ["it@contoso.example"] and "accepted" in told.subject
    assert partner.post(f"/api/v1/vouchers/{code}/claim/").status_code == 200  # a double click


def test_code_alone_is_enough_to_claim(world: Any) -> None:
    response = client_for(world["partner"]).post(f"/api/v1/vouchers/{world['voucher'].code}/claim/")
    assert response.status_code == 200 and response.json()["status"] == "claimed"


def test_only_one_partner_redeems(world: Any) -> None:
    code = world["voucher"].code
    client_for(world["partner"]).post(f"/api/v1/vouchers/{code}/claim/")
    rival = client_for(user_for_role(Role.PARTNER))
    response = rival.post(f"/api/v1/vouchers/{code}/claim/")
    assert response.status_code == 409 and response.json()["rule"] == "R-VOU-5"


def test_unapproved_partner_cannot_claim_or_be_chosen(world: Any) -> None:
    unapproved = PartnerFactory(frp_approved=False)
    code = world["voucher"].code
    response = client_for(user_for_role(Role.PARTNER, partner=unapproved)).post(
        f"/api/v1/vouchers/{code}/claim/"
    )
    assert response.status_code == 400 and response.json()["rule"] == "R-VOU-4"
    forward = client_for(world["contact"]).post(
        f"/api/v1/vouchers/{code}/forward/", {"partner": unapproved.partner_id}, format="json"
    )
    assert forward.status_code == 400 and forward.json()["rule"] == "R-VOU-4"


def test_partner_of_the_customers_own_company_is_refused(world: Any) -> None:
    contoso_ca = PartnerFactory(name="Contoso Canada", company="Contoso")
    code = world["voucher"].code
    claim = client_for(user_for_role(Role.PARTNER, partner=contoso_ca)).post(
        f"/api/v1/vouchers/{code}/claim/"
    )
    assert claim.status_code == 400 and claim.json()["rule"] == "R-VOU-7"
    forward = client_for(world["contact"]).post(
        f"/api/v1/vouchers/{code}/forward/", {"partner": contoso_ca.partner_id}, format="json"
    )
    assert forward.status_code == 400 and forward.json()["rule"] == "R-VOU-7"


def test_expired_voucher_cannot_be_claimed(world: Any) -> None:
    voucher = world["voucher"]
    with time_machine.travel(voucher.expires_on + timedelta(days=1), tick=False):
        response = client_for(world["partner"]).post(f"/api/v1/vouchers/{voucher.code}/claim/")
    assert response.status_code == 409 and response.json()["rule"] == "R-VOU-2"
    with time_machine.travel(voucher.expires_on, tick=False):  # the last day still counts
        assert (
            client_for(world["partner"]).post(f"/api/v1/vouchers/{voucher.code}/claim/").status_code
            == 200
        )


def test_decline_releases_the_voucher_and_tells_the_customer(world: Any, on_commit: Any) -> None:
    code = world["voucher"].code
    partner = client_for(world["partner"])
    partner.post(f"/api/v1/vouchers/{code}/claim/")
    mail.outbox.clear()
    with on_commit():
        response = partner.post(
            f"/api/v1/vouchers/{code}/decline/", {"reason": "At capacity"}, format="json"
        )
    assert response.status_code == 200 and response.json()["status"] == "issued"
    assert partner.get(f"/api/v1/vouchers/{code}/").status_code == 404  # no longer theirs to see
    voucher = Voucher.objects.get(code=code)
    assert voucher.status == "issued" and voucher.partner is None
    [told] = mail.outbox
    assert "declined" in told.subject and "At capacity" in told.body
    other = client_for(user_for_role(Role.PARTNER))
    assert other.post(f"/api/v1/vouchers/{code}/claim/").status_code == 200


def test_decline_of_a_forwarded_voucher_without_claiming(world: Any, on_commit: Any) -> None:
    code = world["voucher"].code
    client_for(world["contact"]).post(
        f"/api/v1/vouchers/{code}/forward/", {"partner": world["adatum"].partner_id}, format="json"
    )
    mail.outbox.clear()
    with on_commit():
        response = client_for(world["partner"]).post(
            f"/api/v1/vouchers/{code}/decline/", {}, format="json"
        )
    assert response.status_code == 200 and response.json()["status"] == "issued"
    assert "declined" in mail.outbox[0].subject


def test_claim_attempts_are_rate_limited(world: Any, settings: Any) -> None:
    settings.RATE_LIMITS = {"claim": (3, 60)}
    partner = client_for(world["partner"])
    codes = ["2345-6789-ABCD-EFG" + c for c in "HJKLMNPQ"]
    with time_machine.travel(datetime(2024, 3, 1, 9, 0, 45, tzinfo=UTC), tick=False):
        responses = [partner.post(f"/api/v1/vouchers/{c}/claim/") for c in codes[:4]]
    statuses = [r.status_code for r in responses]
    assert 429 not in statuses[:3] and statuses[3] == 429
    # The window is the clock's minute: 15 s of it are left at 09:00:45.
    assert responses[3]["Retry-After"] == "15"
    assert responses[3].json()["code"] == "rate_limited"
    assert "wait 15 seconds" in responses[3].json()["detail"]


@pytest.mark.parametrize(
    "role", [Role.PARTNER, Role.FIELD_REP, Role.PROGRAM_MANAGER, Role.REVIEWER]
)
def test_only_customers_forward(world: Any, role: str) -> None:
    response = client_for(user_for_role(role)).post(
        f"/api/v1/vouchers/{world['voucher'].code}/forward/",
        {"partner": world["adatum"].partner_id},
        format="json",
    )
    assert response.status_code == 403


def test_another_customer_cannot_forward(world: Any) -> None:
    outsider = user_for_role(Role.CUSTOMER)
    response = client_for(outsider).post(
        f"/api/v1/vouchers/{world['voucher'].code}/forward/",
        {"partner": world["adatum"].partner_id},
        format="json",
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "role", [Role.CUSTOMER, Role.FIELD_REP, Role.PROGRAM_MANAGER, Role.REVIEWER]
)
def test_only_partners_claim(world: Any, role: str) -> None:
    assert (
        client_for(user_for_role(role))
        .post(f"/api/v1/vouchers/{world['voucher'].code}/claim/")
        .status_code
        == 403
    )


# -- a decline is answered once (R-VOU-5, R-NOT-2) ----------------------------------------


def declined_mails() -> list[OutboundMail]:
    return list(OutboundMail.objects.filter(kind="voucher_declined").order_by("pk"))


def forward(world: Any, message: str = "") -> Any:
    response = client_for(world["contact"]).post(
        f"/api/v1/vouchers/{world['voucher'].code}/forward/",
        {"partner": world["adatum"].partner_id, "message": message},
        format="json",
    )
    assert response.status_code == 200, response.json()
    return response


def test_a_forward_declined_twice_is_409_and_mails_the_customer_once(world: Any) -> None:
    """Forwarded, not claimed: the decline answers the forward; a second one is refused."""
    code = world["voucher"].code
    forward(world)
    partner = client_for(world["partner"])
    first = partner.post(f"/api/v1/vouchers/{code}/decline/", {"reason": "Full"}, format="json")
    assert first.status_code == 200 and len(declined_mails()) == 1
    for _ in range(2):
        again = partner.post(
            f"/api/v1/vouchers/{code}/decline/", {"reason": "Still full"}, format="json"
        )
        assert again.status_code == 409
        assert again.json()["rule"] == "R-VOU-5" and again.json()["code"] == "already_declined"
    assert len(declined_mails()) == 1
    assert Event.objects.filter(subject_id=world["voucher"].pk, action="declined").count() == 1
    # Claiming after the decline would start the round again: refused too.
    claim = partner.post(f"/api/v1/vouchers/{code}/claim/")
    assert claim.status_code == 409 and claim.json()["code"] == "already_declined"

    forward(world, "Please reconsider")  # the customer asks again: a new forward, a new answer
    assert partner.post(f"/api/v1/vouchers/{code}/decline/", {}, format="json").status_code == 200
    assert len(declined_mails()) == 2


def test_a_claimed_voucher_declined_twice_is_409_and_mails_the_customer_once(
    world: Any,
) -> None:
    """Claimed: the decline releases the voucher; once released, a second decline (or a
    claim-and-decline round) is refused."""
    code = world["voucher"].code
    forward(world)
    partner = client_for(world["partner"])
    assert partner.post(f"/api/v1/vouchers/{code}/claim/").status_code == 200
    first = partner.post(f"/api/v1/vouchers/{code}/decline/", {"reason": "Full"}, format="json")
    assert first.status_code == 200 and first.json()["status"] == "issued"
    again = partner.post(f"/api/v1/vouchers/{code}/decline/", {"reason": "x"}, format="json")
    assert again.status_code == 409 and again.json()["rule"] == "R-VOU-5"
    assert partner.post(f"/api/v1/vouchers/{code}/claim/").status_code == 409
    assert len(declined_mails()) == 1

    # Claimed by its code alone (never forwarded): once released the partner no longer sees
    # it (404); the service refuses the second decline and the claim all the same.
    fabrikam = CustomerFactory(name="Fabrikam", company="fabrikam")
    other = issue_voucher(world["fy24"], fabrikam, *_issuers(world))
    decline = f"/api/v1/vouchers/{other.code}/decline/"
    assert partner.post(f"/api/v1/vouchers/{other.code}/claim/").status_code == 200
    assert partner.post(decline, {}, format="json").status_code == 200
    assert partner.post(decline, {}, format="json").status_code == 404
    with pytest.raises(StateConflict) as refused:
        voucher_decline(voucher_id=other.pk, user=world["partner"])
    assert refused.value.code == "already_declined" and refused.value.status_code == 409
    assert partner.post(f"/api/v1/vouchers/{other.code}/claim/").status_code == 409
    assert len(declined_mails()) == 2


def _issuers(world: Any) -> tuple[Any, Any]:
    voucher = world["voucher"]
    return voucher.nomination.nominated_by, voucher.issued_by


def test_the_decline_page_answers_a_second_decline_409_and_mails_nothing(world: Any) -> None:
    code = world["voucher"].code
    forward(world)
    page = Client()
    page.force_login(world["partner"])
    assert b"Decline this engagement" in page.get(f"/vouchers/{code}/").content
    first = page.post(f"/vouchers/{code}/decline/", {"reason": "At capacity"})
    assert first.status_code == 302 and len(declined_mails()) == 1
    shown = page.get(f"/vouchers/{code}/").content
    assert b"You declined this voucher" in shown
    assert b"Decline this engagement" not in shown and b"Claim voucher" not in shown
    again = page.post(f"/vouchers/{code}/decline/", {"reason": "At capacity"})
    assert again.status_code == 409
    assert b"already declined" in again.content and b"R-VOU-5" in again.content
    assert len(declined_mails()) == 1


# -- their words, quoted and inert ------------------------------------------------------------

EVIL = (
    'Try <a href="https://evil.example/login">our portal</a> instead: https://evil.example/x '
    "or www.evil.example, mail sales@evil.example\n\nRegards"
)


def test_the_decline_mail_quotes_the_partner_and_defangs_its_links(world: Any) -> None:
    code = world["voucher"].code
    forward(world)
    response = client_for(world["partner"]).post(
        f"/api/v1/vouchers/{code}/decline/", {"reason": EVIL}, format="json"
    )
    assert response.status_code == 200
    [told] = declined_mails()
    html, text = told.body_html, told.body_text
    for body in (html, text):
        assert "https://evil.example" not in body and "evil.example" not in body
        assert "hxxps://evil[.]example/x" in body and "www[.]evil[.]example" in body
        assert "sales@evil[.]example" in body
        assert "Adatum wrote:" in body
    assert '<a href="https://evil.example' not in html and '<a href="hxxps' not in html
    assert "&lt;a href=&quot;hxxps://evil[.]example/login&quot;&gt;" in html
    assert "<blockquote" in html and "“Try" in html
    quoted = [line for line in text.splitlines() if line.startswith(">")]
    assert quoted[0].startswith("> “Try") and quoted[-1] == "> Regards”"
    assert len(quoted) >= 3 and all(len(line) <= 76 for line in quoted)

    # Long words are capped: the customer reads at most 1,000 of the partner's characters.
    long = "word " * 400
    assert len(long.strip()) == 1_999
    client_for(world["contact"]).post(
        f"/api/v1/vouchers/{code}/forward/",
        {"partner": world["adatum"].partner_id},
        format="json",
    )
    declined = client_for(world["partner"]).post(
        f"/api/v1/vouchers/{code}/decline/", {"reason": long}, format="json"
    )
    assert declined.status_code == 200
    second = declined_mails()[-1]
    lines = second.body_text.splitlines()
    quoted_text = " ".join(line[2:] for line in lines if line.startswith("> "))
    assert 900 < len(quoted_text) <= 1_002 and quoted_text.endswith("…”")
    assert "shortened" in second.body_text and "shortened" in second.body_html


def test_the_forward_mail_quotes_the_customer_and_defangs_its_links(world: Any) -> None:
    forward(world, EVIL)
    [sent] = OutboundMail.objects.filter(kind="voucher_forwarded")
    for body in (sent.body_html, sent.body_text):
        assert "https://evil.example" not in body and "evil.example" not in body
        assert "hxxps://evil[.]example/x" in body
        assert "Contoso wrote:" in body
    assert '<a href="https://evil.example' not in sent.body_html
    assert any(line.startswith("> “Try") for line in sent.body_text.splitlines())
