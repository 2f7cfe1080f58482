"""The people and vouchers the fault and load tests drive over HTTP, in bulk.

`seed_world()` runs in the test process (pytest's database) or, for a private cluster, in a
subprocess (`servers.run_json`); it returns only JSON-able data: tokens and voucher codes.
Import it after Django is set up."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

# (currency, local units per USD) for the partners, in turn; USD needs no rate (R-PAY-1).
CURRENCIES = (
    ("USD", None),
    ("EUR", Decimal("0.921300")),
    ("BRL", Decimal("4.951700")),
    ("JPY", Decimal("151.337000")),
    ("GBP", Decimal("0.789900")),
    ("INR", Decimal("83.117500")),
)
CAP = Decimal("75000.00")


def voucher_terms(index: int) -> tuple[str, Decimal]:
    """(scheme, value) of the partner's `index`-th voucher: a third public sector, and values
    at the cap, with odd cents and round (R-CAP-1, R-RED-2, R-PUB-2)."""
    scheme = "public_sector" if index % 3 == 2 else "commercial"
    values = (CAP, Decimal("12345.67"), Decimal("50000.00"), Decimal("20000.01"))
    return scheme, values[index % len(values)]


def sow_value_for(index: int) -> str:
    """The SOW value a partner enters: above, below and equal to the voucher (R-DOC-3)."""
    return ("90000.00", "99999.99", "30000.01", "20000.01", "7777.77")[index % 5]


def seed_world(
    *,
    partners: int,
    claimed_per_partner: int,
    reviewers: int,
    unclaimed_per_partner: int = 0,
) -> dict[str, Any]:
    """FY24 loaded; `partners` partner organisations in several currencies, each with one
    user and its claimed vouchers (plus issued ones it may claim); `reviewers` QTM
    reviewers; one program manager. Vouchers were issued 30 days ago and expire in 150."""
    from django.utils import timezone

    from accounts.models import User
    from accounts.services import api_token_issue
    from core.choices import Category, Role, Segment
    from customers.models import Customer
    from partners.models import Partner
    from payments.models import FxRate
    from programs.models import Program
    from programs.services import program_load
    from tests.factories import bulk_issued_nominations, unsaved_voucher
    from vouchers.models import Voucher

    program_load(name="fy24")
    program = Program.objects.get(code="FY24-MWSDO")
    today = timezone.localdate()
    issued_on, expires_on = today - timedelta(days=30), today + timedelta(days=150)
    for currency, rate in CURRENCIES:
        if rate is not None:
            FxRate.objects.get_or_create(
                currency=currency,
                valid_from=today - timedelta(days=365),
                defaults={"rate_per_usd": rate},
            )

    def user(username: str, role: str, **orgs: Any) -> tuple[User, str]:
        account = User.objects.create(
            username=username, email=f"{username}@example.com", role=role, **orgs
        )
        return account, api_token_issue(user=account)[1]

    pm, pm_token = user("load-pm", Role.PROGRAM_MANAGER, is_staff=True, is_superuser=True)
    rep, _ = user("load-rep", Role.FIELD_REP)
    reviewer_tokens = [user(f"load-qtm-{n}", Role.REVIEWER)[1] for n in range(reviewers)]
    per_partner = claimed_per_partner + unclaimed_per_partner
    customers = Customer.objects.bulk_create(
        Customer(
            tpid=f"L{n:08d}",
            name=f"Load customer {n}",
            country="US",
            category=Category.PUBLIC_SECTOR
            if voucher_terms(n % per_partner)[0] == "public_sector"
            else Category.COMMERCIAL,
            segment=Segment.ENTERPRISE,
            e3_licenses=10,
        )
        for n in range(partners * per_partner)
    )
    nominations = bulk_issued_nominations(
        program, customers, rep=rep, issued_on=issued_on, amount=Decimal("800000.00")
    )
    world: dict[str, Any] = {"pm": pm_token, "reviewers": reviewer_tokens, "partners": []}
    vouchers: list[Voucher] = []
    for p in range(partners):
        currency = CURRENCIES[p % len(CURRENCIES)][0]
        partner = Partner.objects.create(
            partner_id=f"P-LOAD-{p:03d}",
            name=f"Load Partner {p}",
            country="US",
            currency=currency,
            frp_approved=True,
        )
        _, token = user(f"load-partner-{p}", Role.PARTNER, partner=partner)
        entry: dict[str, Any] = {
            "partner_id": partner.partner_id,
            "currency": currency,
            "token": token,
            "claimed": [],
            "unclaimed": [],
        }
        for i in range(per_partner):
            scheme, value = voucher_terms(i)
            claimed = i < claimed_per_partner
            voucher = unsaved_voucher(
                nominations[p * per_partner + i],
                value=value,
                cap=CAP,
                scheme=scheme,
                cap_row="load-test",
                issued_on=issued_on,
                expires_on=expires_on,
                status="claimed" if claimed else "issued",
                partner=partner if claimed else None,
                claimed_at=timezone.now() if claimed else None,
                issued_by=pm,
            )
            vouchers.append(voucher)
            entry["claimed" if claimed else "unclaimed"].append(voucher.code)
        world["partners"].append(entry)
    Voucher.objects.bulk_create(vouchers)
    return world
