"""The authorization matrix: every route x method x actor against tests/authz_expected.py.

Every route of the URL configuration (admin aside: it has its own access test) must have
a row in the table and every row must name a route, so a new endpoint cannot ship
unchecked. One world is built per module: tenant A (a customer, a partner that claimed
A's voucher, was paid and disputed, A's field rep with a nomination and an import job)
and tenant B (the same three roles from another organisation), plus a program manager
and a reviewer. Each case sends one request (GET for reads, POST/PUT/PATCH with an empty
or minimal body for writes) and compares the outcome; each test runs in a savepoint that
is rolled back, so writes never leak into the next case.

Outcomes: "allowed" (a read answers 2xx/3xx; a write anything but 401/403/404/405/429, a
redirect to the login page or a 5xx: a 400/409 from an empty body is fine), "401",
"403", "404" or "login" (a redirect to /login/?next=). Never a 500. Another tenant's 404
must have the same body as a missing object's. Besides the matrix: every allowed role
asking for a nonexistent id/code gets 404, tenant B's collections never show tenant A's
voucher, and a GET on a write-only route answers 405. Known bugs (authz_expected.BUGS)
run as strict xfails.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from core.choices import Role
from tests.authz_expected import (
    ANON,
    BUGS,
    EXPECTED,
    OTHER,
    ROLES,
    TENANT_ROLES,
    allowed,
    own_only,
    tenant_scoped,
)
from tests.factories import CustomerFactory, PartnerFactory, issue_voucher, user_for_role

DAY = date(2024, 3, 1)  # FY24 program window; the world and every request live on this day
MISSING_PK = 999999
OBJECT_ARGS = ("pk", "code", "tpid", "partner_id")  # URL arguments that name an object

# -- the routes -----------------------------------------------------------------------------


def _walk(
    patterns: list[Any], prefix: str = "", namespace: str = "", args: tuple[str, ...] = ()
) -> Iterator[tuple[str, str, Any, tuple[str, ...]]]:
    for entry in patterns:
        here = (*args, *entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner, here)
        elif isinstance(entry, URLPattern):
            pattern = prefix + str(entry.pattern)
            name = namespace + (entry.name or f"<unnamed {pattern}>")
            yield name, pattern, entry.callback, here


def enumerate_routes() -> dict[str, tuple[Any, tuple[str, ...]]]:
    """Full route name -> (view callback, URL keyword arguments), for every route but the
    admin's, static and media files and DRF format-suffix duplicates."""
    routes: dict[str, tuple[Any, tuple[str, ...]]] = {}
    files = tuple(p.lstrip("/") for p in (settings.STATIC_URL, settings.MEDIA_URL) if p)
    for name, pattern, callback, args in _walk(get_resolver().url_patterns):
        if name.startswith("admin:") or "format" in args:
            continue
        if any(f and pattern.lstrip("^").startswith(f) for f in files):
            continue
        if name in routes:
            name = f"<duplicate {name}: {pattern}>"
        routes[name] = (callback, args)
    return routes


ROUTES = enumerate_routes()

# -- the actors and the cases ---------------------------------------------------------------


def actors_for(route: str) -> list[str]:
    actors = [ANON, *sorted(ROLES)]
    if tenant_scoped(route):
        actors += [role + OTHER for role in TENANT_ROLES]
    return actors


def case(*values: str, id: str) -> Any:
    """A parametrized case; a known bug (authz_expected.BUGS) is a strict xfail."""
    marks = [pytest.mark.xfail(strict=True, reason=f"BUG: {BUGS[id]}")] if id in BUGS else []
    return pytest.param(*values, id=id, marks=marks)


CHECKED = sorted(r for r in EXPECTED if r in ROUTES)
CASES = [
    case(route, method, actor, id=f"{route} {method} {actor}")
    for route in CHECKED
    for method in EXPECTED[route]
    for actor in actors_for(route)
]
# Every role allowed on a route whose URL names an object, asking for a nonexistent one.
MISSING_CASES = [
    case(route, method, role, id=f"{route} {method} {role} + missing object")
    for route in CHECKED
    if any(arg in ROUTES[route][1] for arg in OBJECT_ARGS)
    for method in EXPECTED[route]
    for role in sorted(allowed(route, method) - {ANON})
]
# Collections another tenant's roles may read: tenant A's voucher must not show in them.
LIST_CASES = [
    case(route, role + OTHER, id=f"{route} GET {role}{OTHER}")
    for route in CHECKED
    if "GET" in EXPECTED[route] and not ROUTES[route][1]
    for role in TENANT_ROLES
    if role in allowed(route, "GET")
]
POST_ONLY = [r for r in CHECKED if "GET" not in EXPECTED[r]]


def expectation(route: str, method: str, actor: str) -> str:
    role, other_tenant = actor.removesuffix(OTHER), actor.endswith(OTHER)
    api = route.startswith("api:")
    if role in allowed(route, method):
        return "404" if other_tenant and role in own_only(route, method) else "allowed"
    if role == ANON:
        return "401" if api else "login"
    return "403" if api else "404"


def outcome(method: str, response: Any) -> str:
    status = response.status_code
    login = reverse("login") + "?next="
    if status in (301, 302) and response.get("Location", "").startswith(login):
        return "login"
    if status in (401, 403, 404, 405, 429) or status >= 500:
        return str(status)
    if method == "GET" and status >= 400:
        return str(status)  # a read the role may make must succeed
    return "allowed"


# -- URL arguments: tenant A's objects ------------------------------------------------------

# Which object a route's `pk` names (the longest matching prefix of the route name wins).
PK_OF = {
    "mail-": "mail",
    "nomination-": "nomination",
    "request-": "request",
    "review-": "request",
    "dispute-open": "request",
    "dispute-": "dispute",
    "batch-": "batch",
    "import-": "import_job",
    "extension-": "extension",
    "token-": "api_token",
    "api:user-": "contact_a",
    "api:fx-rate-": "fx_rate",
    "api:payment-": "payment",
    "api:payment-batch-": "batch",
    "api:dispute-": "dispute",
    "api:nomination-": "nomination",
    "api:extension-": "extension",
    "api:request-": "request",
}
# Other keyword arguments, by name, with per-route exceptions.
ARG_OF = {
    "code": "voucher_code",
    "tpid": "tpid",
    "partner_id": "partner_id",
    "version": "document_version",
    "period": "period",
    "fmt": "statement_format",
    "name": "chart",
    "what": "decision",
}
ROUTE_ARG_OF = {
    ("program-detail", "code"): "program_code",
    ("api:program-detail", "code"): "program_code",
    ("export", "kind"): "export_kind",
    ("api:voucher-template", "kind"): "template_kind",
}


def url_kwargs(world: dict[str, Any], route: str, *, missing: bool = False) -> dict[str, Any]:
    keys: dict[str, str] = {}
    arg: str | None
    for arg in ROUTES[route][1]:
        if arg == "pk":
            prefix = max((p for p in PK_OF if route.startswith(p)), key=len, default=None)
            if prefix is None:
                raise KeyError(f"{route}: say in PK_OF which object its pk names")
            keys[arg] = PK_OF[prefix]
        else:
            keys[arg] = ROUTE_ARG_OF.get((route, arg)) or ARG_OF[arg]
    kwargs = {arg: world[key] for arg, key in keys.items()}
    arg = next((a for a in OBJECT_ARGS if a in kwargs), None)
    if missing and arg:  # otherwise the body names the object (BODIES)
        kwargs[arg] = world["missing"]["pk" if arg == "pk" else keys[arg]]
    return kwargs


# Minimal bodies where an empty one would stop before the object is looked up.
BODIES: dict[str, Callable[[dict[str, Any], bool], dict[str, Any]]] = {
    "dispute-open": lambda w, missing: {"text": "authz matrix"},
    "api:dispute-list": lambda w, missing: {
        "request": MISSING_PK if missing else w["request"],
        "text": "authz matrix",
    },
}
QUERIES: dict[str, Callable[[dict[str, Any]], dict[str, str]]] = {
    "api:statement": lambda w: {"partner": w["partner_id"]},  # staff name the partner
}


def send(
    world: dict[str, Any], route: str, method: str, actor: str, *, missing: bool = False
) -> Any:
    client = Client(raise_request_exception=False)
    if actor != ANON:
        client.cookies[settings.SESSION_COOKIE_NAME] = world["sessions"][actor]
    path = reverse(route, kwargs=url_kwargs(world, route, missing=missing))
    with time_machine.travel(DAY, tick=False):
        if method == "GET":
            query = QUERIES[route](world) if route in QUERIES else {}
            return client.get(path, query)
        if method == "POST":
            body = BODIES[route](world, missing) if route in BODIES else {}
            if route.startswith("api:") and not any(hasattr(v, "read") for v in body.values()):
                # The API takes JSON; only its upload actions take multipart.
                return client.post(path, json.dumps(body), content_type="application/json")
            return client.post(path, body)
        return client.generic(method, path, b"{}", content_type="application/json")


def describe(response: Any) -> str:
    if getattr(response, "exc_info", None):
        return f"{response.status_code} {response.exc_info[1]!r}"
    text = b"" if response.streaming else response.content
    detail = text[:160].decode("utf-8", "replace").replace("\n", " ")
    location = response.get("Location", "")
    return f"{response.status_code}" + (f" -> {location}" if location else f" {detail}")


# -- the world ------------------------------------------------------------------------------


def _signed_sow(voucher: Any) -> SimpleUploadedFile:
    from tests.signing import signed_template

    return SimpleUploadedFile(
        "signed.pdf",
        signed_template(voucher=voucher, kind="sow"),
        content_type="application/pdf",
    )


def build_world() -> dict[str, Any]:
    from accounts.services import api_token_issue
    from imports.services import import_preview
    from notifications.models import OutboundMail
    from payments.models import FxRate, Payment
    from payments.services import batch_export, dispute_open
    from programs.models import Program
    from programs.services import program_load
    from redemptions.services import request_approve, request_submit
    from vouchers.codes import generate_code
    from vouchers.extensions import extension_request
    from vouchers.models import Voucher
    from vouchers.services import voucher_claim, voucher_forward

    program_load(name="fy24")
    program = Program.objects.get(code="FY24-MWSDO")
    pm = user_for_role(Role.PROGRAM_MANAGER)
    reviewer = user_for_role(Role.REVIEWER)

    # Tenant A: the customer's voucher, forwarded to and claimed by the partner, whose SOW
    # was approved (a payment, batched), then disputed; the customer asked for more time.
    customer_a = CustomerFactory(name="Tenant A customer")
    contact_a = user_for_role(Role.CUSTOMER, customer=customer_a)
    rep_a = user_for_role(Role.FIELD_REP)
    partner_a = PartnerFactory(name="Tenant A partner", currency="EUR")
    partner_user_a = user_for_role(Role.PARTNER, partner=partner_a)
    fx_rate = FxRate.objects.create(
        currency="EUR", rate_per_usd=Decimal("0.920000"), valid_from=date(2023, 7, 1)
    )
    voucher = issue_voucher(program, customer_a, rep_a, pm, purchase_amount=Decimal("500000.00"))
    voucher_forward(
        voucher_id=voucher.pk, user=contact_a, partner_id=partner_a.partner_id, message="Hi"
    )
    voucher_claim(code=voucher.code, user=partner_user_a)
    request = request_submit(
        voucher_id=voucher.pk,
        user=partner_user_a,
        kind="initial",
        upload=_signed_sow(voucher),
        customer_signer="Casey Customer",
        customer_signed_on=DAY,
        partner_signer="Pat Partner",
        partner_signed_on=DAY,
        sow_value=Decimal("60000.00"),
    )
    request_approve(request_id=request.pk, user=reviewer)
    batch, _ = batch_export(user=pm)
    dispute = dispute_open(user=partner_user_a, request_id=request.pk, text="SOW was 70k")
    extension = extension_request(voucher_id=voucher.pk, user=contact_a, reason="Delays")
    import_customer = CustomerFactory()
    job = import_preview(
        user=rep_a,
        program=program,
        upload=ContentFile(
            b"customer_tpid,offer,workloads,deal_value,expected_close_date\n"
            + f"{import_customer.tpid},DEPLOY,M365_E3,200000,2024-05-20\n".encode(),
            name="nominations.csv",
        ),
    )
    mail = OutboundMail.objects.filter(related_object__icontains=voucher.code).first()
    assert mail is not None, "the forward wrote no mail"
    api_token, _key = api_token_issue(user=partner_user_a)

    # Tenant B: the same three roles from another organisation, with a voucher of their own.
    customer_b = CustomerFactory(name="Tenant B customer")
    contact_b = user_for_role(Role.CUSTOMER, customer=customer_b)
    rep_b = user_for_role(Role.FIELD_REP)
    partner_user_b = user_for_role(Role.PARTNER, partner=PartnerFactory(name="Tenant B partner"))
    issue_voucher(program, customer_b, rep_b, pm)

    missing_code = generate_code()
    assert not Voucher.objects.filter(code=missing_code).exists()
    users = {
        Role.PROGRAM_MANAGER: pm,
        Role.REVIEWER: reviewer,
        Role.FIELD_REP: rep_a,
        Role.CUSTOMER: contact_a,
        Role.PARTNER: partner_user_a,
        Role.FIELD_REP + OTHER: rep_b,
        Role.CUSTOMER + OTHER: contact_b,
        Role.PARTNER + OTHER: partner_user_b,
    }
    sessions = {}
    for actor, user in users.items():
        client = Client()
        client.force_login(user)
        sessions[actor] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return {
        "sessions": sessions,
        "contact_a": contact_a.pk,
        "nomination": voucher.nomination_id,
        "request": request.pk,
        "payment": Payment.objects.get(request=request).pk,
        "batch": batch.pk,
        "dispute": dispute.pk,
        "extension": extension.pk,
        "mail": mail.pk,
        "import_job": job.pk,
        "fx_rate": fx_rate.pk,
        "api_token": api_token.pk,
        "voucher_code": voucher.code,
        "program_code": program.code,
        "tpid": customer_a.tpid,
        "partner_id": partner_a.partner_id,
        "document_version": 1,
        "period": "2024-03",
        "statement_format": "csv",
        "chart": "funnel",
        "decision": "take",
        "export_kind": "vouchers",
        "template_kind": "sow",
        "missing": {
            "pk": MISSING_PK,
            "voucher_code": missing_code,
            "program_code": "FY99-NONE",
            "tpid": "0000000",
            "partner_id": "P-NONE",
        },
    }


@pytest.fixture(scope="module")
def world(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Built once in an outer transaction that is rolled back after the module; each test's
    own changes are rolled back to a savepoint by the `db` fixture. Uploaded files go to a
    module folder (conftest's per-test folder would lose the world's SOW)."""
    storages = settings.STORAGES
    if storages["default"]["BACKEND"].endswith("FileSystemStorage"):
        folder = str(tmp_path_factory.mktemp("authz-private"))
        storages = {**storages, "default": {**storages["default"], "OPTIONS": {"location": folder}}}
    with (
        override_settings(STORAGES=storages),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        cache.clear()
        with time_machine.travel(DAY, tick=False):
            data = build_world()
        yield data
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _private_storage() -> None:
    """Overrides conftest's per-test storage folder: the module world's keeps its files."""


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    cache.clear()


# -- the tests ------------------------------------------------------------------------------


def test_every_route_has_a_row_and_every_row_a_route() -> None:
    missing = sorted(set(ROUTES) - set(EXPECTED))
    stale = sorted(set(EXPECTED) - set(ROUTES))
    assert not missing, f"routes without a row in tests/authz_expected.py: {missing}"
    assert not stale, f"rows in tests/authz_expected.py naming no route: {stale}"
    assert not [r for r in ROUTES if "<" in r], "every route needs a unique name"
    ids = {p.id for p in (*CASES, *MISSING_CASES, *LIST_CASES)}
    assert not set(BUGS) - ids, f"BUGS naming no case: {sorted(set(BUGS) - ids)}"


def test_api_rows_list_exactly_the_methods_the_view_serves() -> None:
    wrong = []
    for route, (callback, _) in ROUTES.items():
        if route not in EXPECTED or not hasattr(callback, "cls"):
            continue  # pages: checked by test_get_is_refused_on_post_only_routes
        if getattr(callback, "actions", None):
            served = {m.upper() for m in callback.actions}
        else:
            view = callback.cls
            served = {m.upper() for m in view.http_method_names if hasattr(view, m)}
        served -= {"HEAD", "OPTIONS"}
        if served != set(EXPECTED[route]):
            wrong.append(f"{route}: serves {sorted(served)}, row has {sorted(EXPECTED[route])}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
@pytest.mark.parametrize("route", POST_ONLY)
def test_get_is_refused_on_post_only_routes(world: dict[str, Any], route: str) -> None:
    """A write route must not act on GET: an allowed role gets 405."""
    method = next(iter(EXPECTED[route]))
    actor = min(allowed(route, method) - {ANON}, default=ANON)
    response = send(world, route, "GET", actor)
    assert response.status_code == 405, f"{route} GET {actor}: got {describe(response)}"


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "method", "actor"), CASES)
def test_access(world: dict[str, Any], route: str, method: str, actor: str) -> None:
    expected = expectation(route, method, actor)
    response = send(world, route, method, actor)
    got = outcome(method, response)
    assert got == expected, (
        f"{route} {method} {actor}: expected {expected}, got {got} ({describe(response)})"
    )
    if expected == "404" and actor.endswith(OTHER):
        # Another tenant's object answers exactly like a missing one.
        absent = send(world, route, method, actor, missing=True)
        assert absent.status_code == 404, (
            f"{route} {method} {actor}: a missing object answers {describe(absent)}, not 404"
        )
        assert response.content == absent.content, (
            f"{route} {method} {actor}: the 404 differs from a missing object's: "
            f"{response.content[:200]!r} != {absent.content[:200]!r}"
        )


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "method", "role"), MISSING_CASES)
def test_missing_object_is_404(world: dict[str, Any], route: str, method: str, role: str) -> None:
    """A role allowed on the route asking for an id or code that does not exist: 404 (a
    write may refuse its empty body first: 400), never a 500."""
    response = send(world, route, method, role, missing=True)
    expected = {404} if method == "GET" else {400, 404}
    assert response.status_code in expected, f"{route} {method} {role}: got {describe(response)}"


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "actor"), LIST_CASES)
def test_other_tenant_collections_hide_tenant_a(
    world: dict[str, Any], route: str, actor: str
) -> None:
    response = send(world, route, "GET", actor)
    assert outcome("GET", response) == "allowed", f"{route} GET {actor}: {describe(response)}"
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert world["voucher_code"].encode() not in body, f"{route}: {actor} sees A's voucher"


def test_matrix_size(capsys: pytest.CaptureFixture[str]) -> None:
    summary = (
        f"authz matrix: {len(ROUTES)} routes, {len(CASES)} access cases "
        f"({len(BUGS)} known bugs, strict xfail), {len(MISSING_CASES)} missing-object cases, "
        f"{len(LIST_CASES)} other-tenant collection cases, {len(POST_ONLY)} GET-on-write cases"
    )
    with capsys.disabled():
        print(f"\n{summary}")
    assert len(ROUTES) == len(CHECKED) and len(CASES) > 6 * len(ROUTES), summary
