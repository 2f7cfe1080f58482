"""Demo organisations and one login per role for `make run` (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction

from accounts.models import User
from accounts.services import user_create
from core.choices import Category, Role, Segment
from customers.models import Customer
from partners.models import Partner
from payments.models import FxRate

DEMO_PASSWORD = "demo-portal-2024"  # noqa: S105 - printed on the console for local demos only


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    organisation: str


CUSTOMERS = [
    dict(
        tpid="1000001",
        name="Contoso Pharmaceuticals",
        country="US",
        category=Category.COMMERCIAL,
        segment=Segment.ENTERPRISE,
        e3_licenses=420,
        company="contoso",
    ),
    dict(
        tpid="1000002",
        name="Fabrikam Logística",
        country="BR",
        category=Category.SMC_CORPORATE,
        segment=Segment.SMC_C,
        e3_licenses=120,
    ),
    dict(
        tpid="1000003",
        name="Northwind School District",
        country="GB",
        category=Category.EDUCATION,
        segment=Segment.ENTERPRISE,
        e3_licenses=80,
        public_institution=True,
    ),
    dict(
        tpid="1000004",
        name="City of Tailspin",
        country="DE",
        category=Category.PUBLIC_SECTOR,
        segment=Segment.ENTERPRISE,
        e3_licenses=300,
    ),
]
PARTNERS = [
    dict(
        partner_id="P-ADATUM",
        name="Adatum Deployment Services",
        country="US",
        currency="USD",
        frp_approved=True,
        payment_profile_ref="PC-100234",
    ),
    dict(
        partner_id="P-LITWARE",
        name="Litware Consultoria",
        country="BR",
        currency="BRL",
        frp_approved=True,
        payment_profile_ref="PC-100871",
    ),
    dict(
        partner_id="P-CONTOSO-CA",
        name="Contoso Consulting Canada",
        country="CA",
        currency="CAD",
        frp_approved=True,
        company="contoso",
        payment_profile_ref="PC-100990",
    ),
    dict(
        partner_id="P-PROSEWARE",
        name="Proseware Integrators",
        country="DE",
        currency="EUR",
        frp_approved=False,
    ),
]
FX_RATES = [("BRL", "4.950000"), ("CAD", "1.350000"), ("EUR", "0.920000")]
USERS = [
    ("pm", Role.PROGRAM_MANAGER, "", "Priya", "Manager"),
    ("rep", Role.FIELD_REP, "", "Ravi", "Fieldrep"),
    ("qtm", Role.REVIEWER, "", "Quinn", "Reviewer"),
    ("customer", Role.CUSTOMER, "1000001", "Casey", "Contoso"),
    ("partner", Role.PARTNER, "P-ADATUM", "Pat", "Adatum"),
]


@transaction.atomic
def demo_seed(*, fx_valid_from: date) -> list[DemoLogin]:
    for spec in CUSTOMERS:
        Customer.objects.update_or_create(tpid=spec["tpid"], defaults=spec)
    for spec in PARTNERS:
        Partner.objects.update_or_create(partner_id=spec["partner_id"], defaults=spec)
    for currency, rate in FX_RATES:
        FxRate.objects.get_or_create(
            currency=currency, valid_from=fx_valid_from, defaults={"rate_per_usd": Decimal(rate)}
        )
    logins = []
    for username, role, org, first, last in USERS:
        if not User.objects.filter(username=username).exists():
            user_create(
                username=username,
                email=f"{username}@demo.example.com",
                password=DEMO_PASSWORD,
                role=role,
                organisation=org,
                first_name=first,
                last_name=last,
            )
        logins.append(DemoLogin(username, role, org))
    return logins


def demo_scenario(*, program_code: str) -> list[str]:
    """Work in progress for every role in a program that is open today (idempotent):
    a voucher waiting for a partner, one with a partner, a nomination to approve and an
    approved one whose deal is not yet recorded. Returns what it did."""
    from datetime import timedelta

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from nominations.models import Nomination
    from nominations.services import nomination_approve, nomination_close_deal, nomination_create
    from portal.demo_signing import demo_signed
    from programs.models import Program
    from redemptions.services import request_submit
    from redemptions.template_pdfs import render_template_pdf
    from vouchers.services import voucher_claim

    program = Program.objects.filter(code=program_code).first()
    today = timezone.localdate()
    if program is None or not program.window_start <= today <= program.window_end:
        return [f"{program_code} is not open today: no demo vouchers."]
    if Nomination.objects.filter(program=program).exists():
        return [f"{program_code}: demo vouchers already there."]
    rep = User.objects.get(username="rep")
    pm = User.objects.get(username="pm")
    close = min(today + timedelta(days=45), program.window_end)

    def nominate(
        tpid: str, offer: str, workloads: list[str], amount: str, sources: tuple[str, ...] = ()
    ) -> Nomination:
        return nomination_create(
            user=rep,
            program=program,
            customer=Customer.objects.get(tpid=tpid),
            offer=offer,
            workloads=workloads,
            deal_value=Decimal(amount),
            expected_close_date=close,
            migration_sources=sources,
        )

    def issue(nomination: Nomination, amount: str) -> str:
        nomination_approve(nomination_id=nomination.pk, user=pm)
        voucher = nomination_close_deal(
            nomination_id=nomination.pk, user=pm, closed_on=today, purchase_amount=Decimal(amount)
        )
        return voucher.code

    done = []
    code = issue(nominate("1000001", "DEPLOY", ["M365_E3", "M365_E5"], "420000.00"), "415000.00")
    done.append(f"voucher {code} issued to Contoso Pharmaceuticals (waiting for a partner)")
    copilot = issue(nominate("1000004", "COPILOT", ["M365_COPILOT"], "300000.00"), "300000.00")
    partner = User.objects.get(username="partner")
    claimed = voucher_claim(code=copilot, user=partner)
    request_submit(
        voucher_id=claimed.pk,
        user=partner,
        kind="initial",
        sow_value=Decimal("28500.00"),
        upload=SimpleUploadedFile(
            "signed-sow.pdf",
            demo_signed(
                render_template_pdf(voucher=claimed, kind="sow"),
                customer="Morgan Tailspin",
                partner="Pat Adatum",
            ),
        ),
        customer_signer="Morgan Tailspin",
        customer_signed_on=today,
        partner_signer="Pat Adatum",
        partner_signed_on=today,
    )
    done.append(
        f"voucher {copilot} issued to City of Tailspin, claimed by Adatum, SOW under review"
    )
    nominate("1000002", "MIGRATE", ["M365_E3"], "180000.00", ("competitor",))
    done.append("nomination of Fabrikam Logística awaiting approval")
    approved = nominate("1000003", "DEPLOY", ["M365_E5", "COMPLIANCE"], "90000.00")
    nomination_approve(nomination_id=approved.pk, user=pm)
    done.append("nomination of Northwind School District approved; deal not yet recorded")
    return done
