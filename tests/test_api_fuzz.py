"""API fuzzing: schemathesis generates requests for every operation in the OpenAPI
schema, as a program manager and as a partner, against the demo data set, and checks every
answer: no server error, status codes, content types, headers and bodies as documented,
invalid data refused, valid data accepted.

One built-in check is replaced, not dropped: `positive_data_acceptance` counts any 400 as
"valid data refused". Schema-valid input can still break a program rule (a deal value above
the cap, a date outside the program window); the portal answers those with 400 and the rule
ID (core.errors). `rule_aware_positive_acceptance` accepts a 400 only when it names a rule,
or when its `code` is one of SEMANTIC_CODES, checks JSON Schema cannot express; a 400 from
field validation the schema did not announce (code `invalid`) still fails the run.

The number of examples per operation is FUZZ_EXAMPLES (default 25, CI's value).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, settings
from schemathesis.checks import CheckContext
from schemathesis.core.failures import Failure
from schemathesis.specs.openapi.checks import ignored_auth
from schemathesis.specs.openapi.checks import (
    positive_data_acceptance as positive_data_acceptance,  # re-bound by a test below
)

from accounts.models import User
from accounts.services import api_token_issue
from tests.factories import demo_world_loaded

# Under pytest-xdist each worker that runs some of these builds the demo world once. (Not
# `--dist loadgroup`: schemathesis gives every operation of a role the same node ID, which
# that scheduler folds into one test.)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
ROLES = {"program_manager": "pm", "partner": "partner"}
SEMANTIC_CODES = {
    "mistyped_code": "a voucher code's Luhn mod 32 check character",
    "weak_password": "Django's password validators (too common, too like the user name)",
    "unknown_organisation": "a user's organisation must be an existing customer or partner",
    "role_organisation": "only customer and partner users name an organisation",
    "partner_required": "staff name the partner of a statement; partners never do",
    "public_institution": "only an education customer can be marked a public institution",
    "control_character": "NUL and other control characters in strings (core.guard)",
    "username_too_long": "a username longer than any account's, before authentication",
}


def _load_schema() -> Any:
    """The schema drf-spectacular serves at /api/v1/schema/, exercised in-process (WSGI)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    # drf-spectacular's generator is unannotated.
    generator = cast(Any, SchemaGenerator)()
    raw = json.loads(OpenApiJsonRenderer().render(generator.get_schema(public=True)))
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = WSGIHandler()
    return loaded


schema = _load_schema()
# schemathesis annotates its pytest decorator as a bare `Callable`.
_TestDecorator = Callable[[Callable[..., None]], Callable[..., None]]


@pytest.fixture(scope="module")
def demo_world(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """The demo data set, loaded once for the module inside a transaction that is rolled
    back at the end; each example's writes are undone by the test's own savepoint."""
    try:
        with demo_world_loaded(django_db_blocker), django_db_blocker.unblock():
            # Issued here, in the module's transaction: a token issued inside one test's
            # savepoint would vanish with it, and every later operation would be fuzzed
            # unauthenticated (all 401s, which the checks accept).
            for role, username in ROLES.items():
                _TOKENS[role] = api_token_issue(user=User.objects.get(username=username))[1]
            yield
    finally:
        _TOKENS.clear()


@schemathesis.check
def rule_aware_positive_acceptance(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """positive_data_acceptance, except that a 400 naming a program rule is an accepted
    refusal of well-formed input."""
    if response.status_code == 400:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and (
            str(body.get("rule", "")).startswith("R-") or body.get("code") in SEMANTIC_CODES
        ):
            return None
    return positive_data_acceptance(ctx, response, case)


# Operations whose authentication was proven enforced, per role: schemathesis's own runner
# probes each operation once per run (no credentials, then invalid ones), because enforcement
# is a property of the operation, not of one payload; its pytest integration has no run and
# probed every successful case again, a quarter of all requests sent.
_AUTH_ENFORCED: dict[str, set[str]] = {role: set() for role in ROLES}
_ROLE: list[str] = []


@schemathesis.check
def ignored_auth_once(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """ignored_auth with the runner's memory: an operation whose authentication a probe
    already proved enforced, for this role, is not probed again."""
    ctx.auth_enforced_operations = _AUTH_ENFORCED[_ROLE[-1]]
    return ignored_auth(ctx, response, case)


_TOKENS: dict[str, str] = {}


def _headers(role: str) -> dict[str, str]:
    """The demo login of the role, by the token demo_world issued. `DELETE
    /api/v1/auth/token/` revokes it, within that operation's test only: each test's
    savepoint is rolled back, the revocation with it."""
    return {"Authorization": f"Token {_TOKENS[role]}"}


CASES: dict[str, int] = {}


@pytest.fixture(scope="module", autouse=True)
def _report_cases() -> Iterator[None]:
    """Writes how many generated requests each role sent (test-results/fuzz.json, or one
    fuzz-gwN.json per pytest-xdist worker to be added up), the figure docs/security.md
    quotes."""
    yield
    if CASES:
        out = Path("test-results")
        out.mkdir(exist_ok=True)
        report = {"examples_per_operation": EXAMPLES, "cases": CASES}
        worker = os.environ.get("PYTEST_XDIST_WORKER", "")
        name = f"fuzz-{worker}.json" if worker else "fuzz.json"
        (out / name).write_text(json.dumps(report, indent=2))


def _call(case: Any, role: str) -> None:
    CASES[role] = CASES.get(role, 0) + 1
    _ROLE.append(role)
    try:
        case.call_and_validate(
            headers=_headers(role),
            excluded_checks=[positive_data_acceptance, ignored_auth],
            additional_checks=[rule_aware_positive_acceptance, ignored_auth_once],
        )
    finally:
        _ROLE.pop()


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@cast(_TestDecorator, schema.parametrize())
@FUZZ
def test_api_as_program_manager(case: Any, demo_world: None, db: None) -> None:
    _call(case, "program_manager")


@cast(_TestDecorator, schema.parametrize())
@FUZZ
def test_api_as_partner(case: Any, demo_world: None, db: None) -> None:
    _call(case, "partner")


def test_the_fuzzers_tokens_still_sign_in(demo_world: None, db: None) -> None:
    """After the operations (file order): every role's token still authenticates, so the
    operations were fuzzed signed in, not as 401s."""
    from django.test import Client

    for role, username in ROLES.items():
        response = Client().get(
            "/api/v1/users/me/", HTTP_AUTHORIZATION=_headers(role)["Authorization"]
        )
        assert response.status_code == 200, f"{role}: {response.status_code}"
        assert response.json()["username"] == username


def test_rule_aware_acceptance_still_fails_plain_validation_errors() -> None:
    """The replacement check is not a blanket pass for 400s: without a rule ID the
    built-in verdict stands."""

    class FakeResponse:
        status_code = 400

        def json(self) -> dict[str, str]:
            return {"detail": "amount: not a number", "code": "invalid"}

    calls: list[Any] = []

    def fake_builtin(ctx: Any, response: Any, case: Any) -> None:
        calls.append(response)
        raise Failure(operation="op", title="refused", message="Valid data should be accepted")

    import tests.test_api_fuzz as module

    original = module.positive_data_acceptance
    module.positive_data_acceptance = fake_builtin
    try:
        with pytest.raises(Failure):
            rule_aware_positive_acceptance(None, FakeResponse(), None)  # type: ignore[arg-type]
        FakeResponse.json = lambda self: {"detail": "x", "rule": "R-CAP-2"}  # type: ignore[method-assign]
        assert rule_aware_positive_acceptance(None, FakeResponse(), None) is None  # type: ignore[arg-type]
    finally:
        module.positive_data_acceptance = original
    assert len(calls) == 1


def test_auth_probes_remember_each_role_s_proven_operations(monkeypatch: Any) -> None:
    """ignored_auth_once hands the built-in check the role's memory of proven operations
    (the built-in adds an operation only after both probes were refused, and skips the
    probes for an operation already in it); each role has its own."""
    seen: list[Any] = []

    def fake_builtin(ctx: Any, response: Any, case: Any) -> None:
        seen.append(ctx.auth_enforced_operations)
        ctx.auth_enforced_operations.add("GET /api/v1/x/")

    class Ctx:
        auth_enforced_operations: set[str] | None = None

    import tests.test_api_fuzz as module

    monkeypatch.setattr(module, "ignored_auth", fake_builtin)
    monkeypatch.setattr(module, "_AUTH_ENFORCED", {role: set() for role in ROLES})
    for role in ("partner", "program_manager", "partner"):
        module._ROLE.append(role)
        try:
            ignored_auth_once(Ctx(), None, None)  # type: ignore[arg-type]
        finally:
            module._ROLE.pop()
    assert seen[0] is seen[2] is module._AUTH_ENFORCED["partner"]
    assert seen[1] is module._AUTH_ENFORCED["program_manager"] is not seen[0]
    assert module._AUTH_ENFORCED["partner"] == {"GET /api/v1/x/"}
