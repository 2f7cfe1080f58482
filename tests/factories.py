from __future__ import annotations

from decimal import Decimal
from typing import Any

import factory
from factory.django import DjangoModelFactory

from accounts.models import User
from core.choices import Category, Role, Segment
from customers.models import Customer
from partners.models import Partner
from payments.models import FxRate


class CustomerFactory(DjangoModelFactory):
    class Meta:
        model = Customer

    tpid = factory.Sequence(lambda n: f"{5000000 + n}")
    name = factory.Sequence(lambda n: f"Customer {n} Ltd")
    country = "US"
    category = Category.COMMERCIAL
    segment = Segment.ENTERPRISE
    e3_licenses = 100


class PartnerFactory(DjangoModelFactory):
    class Meta:
        model = Partner

    partner_id = factory.Sequence(lambda n: f"P-{n:05d}")
    name = factory.Sequence(lambda n: f"Partner {n} Services")
    country = "US"
    currency = "USD"
    frp_approved = True


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pass-word-123")
    role = Role.FIELD_REP

    @factory.post_generation
    def _save(obj, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            obj.save()


class FxRateFactory(DjangoModelFactory):
    class Meta:
        model = FxRate

    currency = "EUR"
    rate_per_usd = Decimal("0.920000")
    valid_from = factory.Faker("date_between", start_date="-2y", end_date="today")


def user_for_role(role: str, **kwargs: Any) -> User:
    """A user of `role`; customer and partner users get a new organisation unless given one."""
    if role == Role.CUSTOMER:
        kwargs.setdefault("customer", CustomerFactory())
    if role == Role.PARTNER:
        kwargs.setdefault("partner", PartnerFactory())
    return UserFactory(role=role, **kwargs)


def nominate(program: Any, customer: Customer, rep: User, **overrides: Any) -> Any:
    """A nomination through the service, as a field rep makes it."""
    from nominations.services import nomination_create

    params: dict[str, Any] = {
        "offer": "DEPLOY",
        "workloads": ["M365_E3", "M365_E5"],
        "deal_value": Decimal("400000.00"),
        "expected_close_date": program.window_end,
        "agreement_type": "new",
        **overrides,
    }
    return nomination_create(user=rep, program=program, customer=customer, **params)


def issue_voucher(program: Any, customer: Customer, rep: User, pm: User, **overrides: Any) -> Any:
    """Nominated, approved and closed today: an issued voucher."""
    from django.utils import timezone

    from nominations.services import nomination_approve, nomination_close_deal

    amount = overrides.pop("purchase_amount", Decimal("400000.00"))
    nomination = nominate(program, customer, rep, **overrides)
    nomination_approve(nomination_id=nomination.pk, user=pm)
    return nomination_close_deal(
        nomination_id=nomination.pk, user=pm, closed_on=timezone.localdate(), purchase_amount=amount
    )
