"""R-VOU-7, conflict of interest: a partner of the customer's own company never redeems its
voucher. The check weighs three kinds of evidence (the ultimate-parent key, the legal name
without its legal form, the corporate mail domains of both sides' people); a definite match
refuses, and a check that cannot be made with confidence lets the claim through but flags
the voucher's payment requests for the reviewer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from core.choices import Role
from core.models import Event
from customers.models import Customer
from partners.models import Partner
from redemptions.models import PaymentRequest
from redemptions.services import request_submit
from tests.factories import CustomerFactory, PartnerFactory, issue_voucher, user_for_role
from tests.signing import signed_template
from vouchers.models import Voucher

pytestmark = [pytest.mark.django_db]
DAY = date(2024, 3, 1)


@dataclass
class Pair:
    """A customer with an issued voucher and its contacts, and a partner with its users."""

    voucher: Voucher
    customer: Customer
    contact: User
    partner: Partner
    partner_user: User


@pytest.fixture
def pair(fy24: Any) -> Any:
    cache.clear()

    def make(
        *,
        customer: dict[str, str],
        partner: dict[str, str],
        contacts: tuple[str, ...] = ("it@contoso.example",),
        users: tuple[str, ...] = ("ops@adatum.example",),
    ) -> Pair:
        with time_machine.travel(DAY, tick=False):
            org = CustomerFactory(**customer)
            people = [user_for_role(Role.CUSTOMER, customer=org, email=e) for e in contacts]
            voucher = issue_voucher(
                fy24, org, user_for_role(Role.FIELD_REP), user_for_role(Role.PROGRAM_MANAGER)
            )
            firm = PartnerFactory(**partner)
            staff = [user_for_role(Role.PARTNER, partner=firm, email=e) for e in users]
        return Pair(voucher, org, people[0], firm, staff[0])

    return make


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def page(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def claim(pair: Pair) -> Any:
    with time_machine.travel(DAY, tick=False):
        return api(pair.partner_user).post(f"/api/v1/vouchers/{pair.voucher.code}/claim/")


def forward(pair: Pair) -> Any:
    with time_machine.travel(DAY, tick=False):
        return api(pair.contact).post(
            f"/api/v1/vouchers/{pair.voucher.code}/forward/",
            {"partner": pair.partner.partner_id},
            format="json",
        )


def submit_sow(pair: Pair) -> PaymentRequest:
    with time_machine.travel(DAY, tick=False):
        return request_submit(
            voucher_id=pair.voucher.pk,
            user=pair.partner_user,
            kind="initial",
            sow_value=Decimal("30000"),
            upload=SimpleUploadedFile("s.pdf", signed_template(voucher=pair.voucher, kind="sow")),
            customer_signer="Casey",
            customer_signed_on=DAY,
            partner_signer="Pat",
            partner_signed_on=DAY,
        )


def refused(response: Any) -> str:
    """The R-VOU-7 refusal's sentence; fails when the answer is anything else."""
    body = response.json()
    assert response.status_code == 400 and body["rule"] == "R-VOU-7", body
    return str(body["detail"])


def unflagged(voucher: Voucher) -> bool:
    voucher.refresh_from_db()
    return voucher.status == Voucher.Status.CLAIMED and voucher.conflict_flag == ""


# Definite matches refuse forwarding and claiming.


def test_same_ultimate_parent_key_is_refused_whatever_its_case(pair: Any) -> None:
    p = pair(customer={"name": "Contoso", "company": "contoso"},
             partner={"name": "Contoso Canada", "company": " Contoso "})  # fmt: skip
    assert "ultimate parent" in refused(forward(p))
    assert "ultimate parent" in refused(claim(p))
    assert Voucher.objects.get(pk=p.voucher.pk).partner is None


@pytest.mark.parametrize(
    ("customer_name", "partner_name"),
    [
        ("Contoso Ltd", "CONTOSO, Inc."),
        ("Fabrikam GmbH", "fabrikam   AG"),
        ("Tailspin Toys S.A. de C.V.", "Tailspin-Toys LLC"),
        ("Wingtip Pty. Ltd.", "Wingtip Corporation"),
        ("Société Générale de Conseil SAS", "Societe Generale de Conseil B.V."),
        ("Northwind Co., Limited", "Northwind plc"),
    ],
)
def test_same_legal_name_under_another_legal_form_is_refused(
    pair: Any, customer_name: str, partner_name: str
) -> None:
    # No key on either side and unrelated mail domains: the name alone is the evidence.
    p = pair(customer={"name": customer_name}, partner={"name": partner_name})
    sentence = refused(claim(p))
    assert "same legal name" in sentence and partner_name in sentence
    assert "same legal name" in refused(forward(p))


def test_shared_corporate_mail_domain_is_refused(pair: Any) -> None:
    p = pair(
        customer={"name": "Contoso Pharmaceuticals", "company": "contoso"},
        partner={"name": "Adatum Deployment Services", "company": "adatum"},
        contacts=("casey@contoso.com",),
        users=("pat@adatum.com", "moonlighter@EU.Contoso.com"),
    )
    sentence = refused(claim(p))
    assert "mail domain contoso.com" in sentence
    assert "mail domain contoso.com" in refused(forward(p))


def test_a_refusal_names_every_piece_of_evidence(pair: Any) -> None:
    p = pair(
        customer={"name": "Contoso Ltd", "company": "contoso"},
        partner={"name": "Contoso Inc", "company": "contoso"},
        contacts=("it@contoso.com",),
        users=("ops@contoso.com",),
    )
    sentence = refused(claim(p))
    assert "ultimate parent" in sentence
    assert "same legal name" in sentence
    assert "mail domain contoso.com" in sentence


# Public mail providers and placeholder domains are nobody's company.


def test_public_mail_domains_are_no_evidence(pair: Any) -> None:
    p = pair(
        customer={"name": "Contoso", "company": "contoso"},
        partner={"name": "Adatum", "company": "adatum"},
        contacts=("casey.contoso@gmail.com", "it@contoso.example"),
        users=("pat.adatum@Gmail.COM", "ops@hotmail.com"),
    )
    assert claim(p).status_code == 200
    p.voucher.refresh_from_db()
    # Nothing matched, but the partner's people use only public providers: flagged.
    assert p.voucher.status == Voucher.Status.CLAIMED
    assert "no user of Adatum has a corporate mail domain" in p.voucher.conflict_flag


def test_reserved_example_domains_are_no_evidence(pair: Any) -> None:
    p = pair(
        customer={"name": "Contoso", "company": "contoso"},
        partner={"name": "Adatum", "company": "adatum"},
        contacts=("casey@demo.example.com",),
        users=("pat@demo.example.com",),
    )
    assert claim(p).status_code == 200
    p.voucher.refresh_from_db()
    assert "no contact of Contoso has a corporate mail domain" in p.voucher.conflict_flag


# Confident: every piece of evidence present and none matches.


def test_a_confident_check_lets_the_claim_through_unflagged(pair: Any) -> None:
    p = pair(
        customer={"name": "Contoso Canada", "company": "contoso"},
        partner={"name": "Contoso", "company": "adatum"},  # a prefix is not the same name
        contacts=("it@contoso.ca",),
        users=("ops@adatum.com", "someone@contoso.com"),  # contoso.com is not contoso.ca
    )
    assert forward(p).status_code == 200
    assert claim(p).status_code == 200
    assert unflagged(p.voucher)
    claimed = Event.objects.get(subject="voucher", subject_id=p.voucher.pk, action="claimed")
    assert claimed.data["conflict_check"] == "clear"
    request = submit_sow(p)
    reviewer = user_for_role(Role.REVIEWER)
    assert api(reviewer).get(f"/api/v1/requests/{request.pk}/").json()["flags"] == []
    screen = page(reviewer).get(f"/review/{request.pk}/").content.decode()
    assert "R-VOU-7" not in screen


# Unconfirmed: the claim goes through and the reviewer is told why.


def test_blank_company_key_lets_the_claim_through_and_flags_the_requests(pair: Any) -> None:
    p = pair(
        customer={"name": "Contoso", "company": ""},
        partner={"name": "Adatum", "company": "adatum"},
        contacts=("it@contoso.com",),
        users=("ops@adatum.com",),
    )
    response = claim(p)
    assert response.status_code == 200 and response.json()["status"] == "claimed"
    p.voucher.refresh_from_db()
    assert "Contoso has no ultimate-parent key" in p.voucher.conflict_flag
    claimed = Event.objects.get(subject="voucher", subject_id=p.voucher.pk, action="claimed")
    assert claimed.data["conflict_check"] == "unconfirmed"

    request = submit_sow(p)
    flag = {"rule": "R-VOU-7", "message": p.voucher.conflict_flag}
    reviewer, pm = user_for_role(Role.REVIEWER), user_for_role(Role.PROGRAM_MANAGER)
    assert api(reviewer).get(f"/api/v1/requests/{request.pk}/").json()["flags"] == [flag]
    assert api(pm).get(f"/api/v1/requests/{request.pk}/").json()["flags"] == [flag]
    [queued] = api(reviewer).get("/api/v1/review-queue/").json()["results"]
    assert queued["flags"] == [flag]
    # The evidence is about both organisations: only staff read it.
    assert api(p.partner_user).get(f"/api/v1/requests/{request.pk}/").json()["flags"] == []
    assert api(p.contact).get(f"/api/v1/requests/{request.pk}/").json()["flags"] == []


def test_the_flag_is_a_visible_warning_on_the_review_screen_and_in_the_queue(pair: Any) -> None:
    p = pair(customer={"name": "Contoso"}, partner={"name": "Adatum"})
    assert claim(p).status_code == 200
    request = submit_sow(p)
    reviewer = page(user_for_role(Role.REVIEWER))
    with time_machine.travel(DAY, tick=False):
        screen = reviewer.get(f"/review/{request.pk}/").content.decode()
        queue = reviewer.get("/review/").content.decode()
    start = screen.rindex("<div", 0, screen.index('id="review-flags"'))
    warning = screen[start : screen.index("</div>", start)]
    assert "alert--warn" in warning[: warning.index(">")]
    assert "R-VOU-7" in warning
    assert "neither Contoso nor Adatum has an ultimate-parent key" in warning
    row = queue[queue.index(f"/review/{request.pk}/") :]
    assert "R-VOU-7" in row[: row.index("</tr>")]


def test_declining_clears_the_flag_and_a_flag_needs_a_partner(pair: Any) -> None:
    p = pair(customer={"name": "Contoso"}, partner={"name": "Adatum"})
    assert claim(p).status_code == 200
    with time_machine.travel(DAY, tick=False):
        declined = api(p.partner_user).post(f"/api/v1/vouchers/{p.voucher.code}/decline/")
    assert declined.status_code == 200
    p.voucher.refresh_from_db()
    assert p.voucher.partner is None and p.voucher.conflict_flag == ""
    with pytest.raises(IntegrityError), transaction.atomic():
        Voucher.objects.filter(pk=p.voucher.pk).update(conflict_flag="unconfirmed")


# The directory hint uses the same check.


def test_directory_blocks_every_definite_match_and_says_why(pair: Any) -> None:
    p = pair(
        customer={"name": "Contoso Ltd", "company": "contoso"},
        partner={"name": "Adatum", "company": "adatum"},
        contacts=("it@contoso.com",),
    )
    PartnerFactory(name="Contoso, Inc.")  # the same legal name
    shared = PartnerFactory(name="Moonlight Services")
    user_for_role(Role.PARTNER, partner=shared, email="ops@contoso.com")  # the same domain
    PartnerFactory(name="Unknown Quantities")  # nothing known: not blocked
    html = page(p.contact).get("/vouchers/directory/").content.decode()

    def item(name: str) -> str:
        start = html.rindex("<label", 0, html.index(name))
        return html[start : html.index("</label>", start)]

    assert "disabled" in item("Contoso, Inc.") and "same legal name" in item("Contoso, Inc.")
    assert "disabled" in item("Moonlight Services")
    assert "mail domain contoso.com" in item("Moonlight Services")
    assert "disabled" not in item("Unknown Quantities")
    assert "disabled" not in item("Adatum")


# The legal-name key on its own.


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Contoso, Inc.", "contoso"),
        ("  CONTOSO   Pharmaceuticals Ltd. ", "contoso pharmaceuticals"),
        ("Fabrikam Co., Ltd.", "fabrikam"),
        ("Tailspin S.A. de C.V.", "tailspin"),
        ("Müller & Söhne GmbH", "muller sohne"),
        ("Adatum™ Pty Ltd", "adatum"),
        ("Limited", "limited"),  # a name that is only a legal form keeps it
        ("Coho Winery", "coho winery"),  # "co" is a suffix only as a whole word
        ("", ""),
    ],
)
def test_legal_name_key(name: str, key: str) -> None:
    from vouchers.conflicts import legal_name_key

    assert legal_name_key(name) == key
