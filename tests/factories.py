from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar, cast

from factory import declarations, faker, helpers
from factory.django import DjangoModelFactory

from accounts.models import User
from core.choices import Category, Role, Segment
from customers.models import Customer
from partners.models import Partner
from payments.models import FxRate

_M = TypeVar("_M")

if TYPE_CHECKING:

    class ModelFactory(DjangoModelFactory[_M]):
        """What calling a factory gives: the model instance it creates."""

        def __new__(cls, **kwargs: Any) -> _M: ...  # type: ignore[misc]

else:
    ModelFactory = DjangoModelFactory

# factory_boy's declarations are untyped: typed views of the ones used here.
Sequence = cast("Callable[[Callable[[int], str]], Any]", declarations.Sequence)
LazyAttribute = cast("Callable[[Callable[[Any], str]], Any]", declarations.LazyAttribute)
PostGenerationMethodCall = cast("Callable[..., Any]", declarations.PostGenerationMethodCall)
Faker = cast("Callable[..., Any]", faker.Faker)
post_generation = cast("Callable[[Callable[..., None]], Any]", helpers.post_generation)


class CustomerFactory(ModelFactory[Customer]):
    class Meta:
        model = Customer

    tpid = Sequence(lambda n: f"{5000000 + n}")
    name = Sequence(lambda n: f"Customer {n} Ltd")
    country = "US"
    category = Category.COMMERCIAL
    segment = Segment.ENTERPRISE
    e3_licenses = 100


class PartnerFactory(ModelFactory[Partner]):
    class Meta:
        model = Partner

    partner_id = Sequence(lambda n: f"P-{n:05d}")
    name = Sequence(lambda n: f"Partner {n} Services")
    country = "US"
    currency = "USD"
    frp_approved = True


class UserFactory(ModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = Sequence(lambda n: f"user{n}")
    email = LazyAttribute(lambda u: f"{u.username}@example.com")
    password = PostGenerationMethodCall("set_password", "pass-word-123")
    role = Role.FIELD_REP

    @post_generation
    def _save(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            obj.save()


class FxRateFactory(ModelFactory[FxRate]):
    class Meta:
        model = FxRate

    currency = "EUR"
    rate_per_usd = Decimal("0.920000")
    valid_from = Faker("date_between", start_date="-2y", end_date="today")


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


def bulk_issued_nominations(
    program: Any,
    customers: list[Customer],
    *,
    rep: User,
    issued_on: Any,
    amount: Decimal,
    contacts: bool = True,
) -> list[Any]:
    """Each customer's IT contact (when `contacts`) and its nomination, issued on
    `issued_on` for a DEPLOY deal of `amount`, in bulk."""
    from nominations.models import Nomination

    offer = program.offers.get(code="DEPLOY")
    if contacts:
        User.objects.bulk_create(
            User(
                username=f"contact-{c.tpid}",
                email=f"it@{c.tpid.lower()}.example",
                role=Role.CUSTOMER,
                customer=c,
            )
            for c in customers
        )
    return Nomination.objects.bulk_create(
        Nomination(
            program=program,
            customer=c,
            offer=offer,
            exclusive_group=offer.exclusive_group,
            workloads=["M365_E3"],
            deal_value=amount,
            expected_close_date=issued_on,
            agreement_type="new",
            nominated_by=rep,
            status="issued",
            closed_on=issued_on,
            purchase_amount=amount,
        )
        for c in customers
    )


def unsaved_voucher(nomination: Any, *, value: Decimal, cap: Decimal, **fields: Any) -> Any:
    """The voucher of an issued nomination (see bulk_issued_nominations), not yet saved:
    `fields` name the rest (scheme, dates, status, partner, issued_by, ...)."""
    from vouchers.codes import generate_code
    from vouchers.models import Voucher

    return Voucher(
        code=generate_code(),
        program=nomination.program,
        nomination=nomination,
        customer=nomination.customer,
        offer=nomination.offer,
        exclusive_group=nomination.exclusive_group,
        workloads=nomination.workloads,
        value=value,
        cap=cap,
        suggested_value=value,
        **fields,
    )


def bulk_vouchers(
    program: Any,
    count: int,
    *,
    expires_on: Any,
    issued_on: Any,
    status: str = "issued",
    partner: Partner | None = None,
    contacts: bool = True,
) -> list[Any]:
    """Many vouchers at once (bulk inserts), each with its nomination and customer."""
    from vouchers.models import Voucher

    start = Customer.objects.count()
    customers = Customer.objects.bulk_create(
        Customer(
            tpid=f"B{start + i:08d}",
            name=f"Bulk customer {start + i}",
            country="US",
            category=Category.COMMERCIAL,
            segment=Segment.ENTERPRISE,
            e3_licenses=10,
        )
        for i in range(count)
    )
    nominations = bulk_issued_nominations(
        program,
        customers,
        rep=user_for_role(Role.FIELD_REP),
        issued_on=issued_on,
        amount=Decimal("100000.00"),
        contacts=contacts,
    )
    pm = user_for_role(Role.PROGRAM_MANAGER)
    return Voucher.objects.bulk_create(
        unsaved_voucher(
            n,
            value=Decimal("10000.00"),
            cap=Decimal("75000.00"),
            scheme="commercial",
            cap_row="bulk",
            issued_on=issued_on,
            expires_on=expires_on,
            status=status,
            partner=partner,
            issued_by=pm,
        )
        for n in nominations
    )


def submitted_sow(
    program: Any,
    *,
    day: Any,
    sow_value: str = "1000",
    partner_user: User | None = None,
    rep: User | None = None,
) -> tuple[Any, Any, User]:
    """An issued voucher, claimed by a partner that submitted its signed SOW on `day`:
    returns (voucher, payment request, partner user). Call inside a time travel to `day`."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from redemptions.services import request_submit
    from tests.signing import signed_template
    from vouchers.services import voucher_claim

    voucher = issue_voucher(
        program,
        CustomerFactory(),
        rep or user_for_role(Role.FIELD_REP),
        user_for_role(Role.PROGRAM_MANAGER),
    )
    partner_user = partner_user or user_for_role(Role.PARTNER, partner=PartnerFactory())
    voucher_claim(code=voucher.code, user=partner_user)
    request = request_submit(
        voucher_id=voucher.pk,
        user=partner_user,
        kind="initial",
        sow_value=Decimal(sow_value),
        upload=SimpleUploadedFile("s.pdf", signed_template(voucher=voucher, kind="sow")),
        customer_signer="C",
        customer_signed_on=day,
        partner_signer="P",
        partner_signed_on=day,
    )
    return voucher, request, partner_user


@contextmanager
def module_transaction(django_db_blocker: Any) -> Iterator[None]:
    """A transaction held open for a whole test module and rolled back on exit, so data
    built once serves every test of the module; each test's own writes are undone by its
    savepoint (pytest-django's `db`). Requests run in-process inside that transaction:
    Django closes a connection left outside autocommit at the end of every request; its
    test client switches that off for the same reason, and so does this while the module
    runs."""
    from django.core import signals
    from django.db import close_old_connections, transaction

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        with django_db_blocker.unblock(), transaction.atomic():
            yield
            transaction.set_rollback(True)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@contextmanager
def demo_world_loaded(django_db_blocker: Any) -> Iterator[None]:
    """The demo data set (both programs, the demo organisations and logins, the demo
    scenario) in a `module_transaction`, for a module's fuzzers."""
    from django.core.management import call_command

    from portal.demo import demo_scenario, demo_seed

    with module_transaction(django_db_blocker):
        call_command("load_program", "fy24", verbosity=0)
        call_command("load_program", "demo", verbosity=0)
        demo_seed(fx_valid_from=date(2020, 1, 1))
        demo_scenario(program_code="DEMO-FY27")
        yield
