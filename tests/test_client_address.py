"""One client address for every limit (core.ratelimit.client_address), trusted only as far
as the proxies in front of the portal are: the claim limit per partner user, the login
throttle, django-axes' lockout and the failed sign-ins counted per address."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from core.choices import Role
from core.ratelimit import client_address
from tests.factories import PartnerFactory, user_for_role

pytestmark = pytest.mark.django_db
CLAIM = "/api/v1/vouchers/ABCD-EFGH-JKLM-NPQR/claim/"  # a mistyped code: 400, but counted


@pytest.fixture(autouse=True)
def _fresh_counters() -> Any:
    cache.clear()
    yield
    cache.clear()


def _address(forwarded: str | None, remote: str = "10.0.0.5") -> str:
    meta: dict[str, Any] = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **meta))


def test_without_trusted_proxies_the_header_is_not_believed() -> None:
    assert _address("6.6.6.6") == "10.0.0.5"
    assert _address(None) == "10.0.0.5"


def test_with_one_trusted_proxy_the_client_is_the_address_it_saw(settings: Any) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    assert _address("203.0.113.7") == "203.0.113.7"
    # A client-written first entry is ignored: the proxy appended the real one.
    assert _address("6.6.6.6, 203.0.113.7") == "203.0.113.7"
    assert _address(None) == "10.0.0.5"
    assert _address("not-an-address") == "10.0.0.5"


def test_trusted_proxy_networks_are_skipped_from_the_right(settings: Any) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.0/24"]
    assert _address("6.6.6.6, 203.0.113.7, 192.0.2.10") == "203.0.113.7"
    assert _address("203.0.113.7", remote="198.51.100.1") == "198.51.100.1"  # untrusted peer


def test_one_partners_bogus_claims_do_not_lock_out_another_behind_the_same_proxy(
    settings: Any,
) -> None:
    settings.RATE_LIMITS = {"claim": (3, 60), "claim_address": (100, 60)}
    noisy = APIClient(REMOTE_ADDR="10.0.0.5")
    noisy.force_authenticate(user_for_role(Role.PARTNER, partner=PartnerFactory()))
    for _ in range(3):
        assert noisy.post(CLAIM).status_code != 429
    assert noisy.post(CLAIM).status_code == 429
    quiet = APIClient(REMOTE_ADDR="10.0.0.5")
    quiet.force_authenticate(user_for_role(Role.PARTNER, partner=PartnerFactory()))
    assert quiet.post(CLAIM).status_code != 429


def test_the_address_bound_still_holds_across_users(settings: Any) -> None:
    settings.RATE_LIMITS = {"claim": (100, 60), "claim_address": (4, 60)}
    answers = []
    for _ in range(5):
        client = APIClient(REMOTE_ADDR="10.0.0.9")
        client.force_authenticate(user_for_role(Role.PARTNER, partner=PartnerFactory()))
        answers.append(client.post(CLAIM).status_code)
    assert answers[-1] == 429 and 429 not in answers[:-1]


def test_the_login_throttle_ignores_a_rotated_forwarded_for(settings: Any) -> None:
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "login": "3/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    from rest_framework.throttling import ScopedRateThrottle

    ScopedRateThrottle.THROTTLE_RATES = rates
    try:
        answers = [
            APIClient()
            .post(
                "/api/v1/auth/token/",
                {"username": f"nobody{i}", "password": "x"},
                format="json",
                HTTP_X_FORWARDED_FOR=f"198.51.100.{i}",
            )
            .status_code
            for i in range(4)
        ]
    finally:
        ScopedRateThrottle.THROTTLE_RATES = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert answers[-1] == 429, answers


def test_a_lockout_behind_the_proxy_is_the_attackers_own(settings: Any) -> None:
    """Behind one load balancer, failures from one client lock that username for that
    client only: the victim signs in from elsewhere."""
    settings.TRUSTED_PROXY_COUNT = 1
    user_for_role(Role.PARTNER, username="victim")
    attacker = Client(REMOTE_ADDR="10.0.0.5", headers={"x-forwarded-for": "203.0.113.66"})
    for _ in range(5):
        attacker.post("/login/", {"username": "victim", "password": "wrong"})
    assert (
        attacker.post("/login/", {"username": "victim", "password": "pass-word-123"}).status_code
        == 429
    )
    victim = Client(REMOTE_ADDR="10.0.0.5", headers={"x-forwarded-for": "203.0.113.10"})
    assert (
        victim.post("/login/", {"username": "victim", "password": "pass-word-123"}).status_code
        == 302
    )


def test_password_spraying_from_one_address_is_slowed(settings: Any) -> None:
    """25 usernames with one password each: django-axes counts per username, so the
    failures per address across usernames stop the run at LOGIN_ADDRESS_FAILURES."""
    settings.LOGIN_ADDRESS_FAILURES = (10, 900)
    for i in range(25):
        user_for_role(Role.PARTNER, username=f"user{i}")
    answers = [
        Client(REMOTE_ADDR="198.51.100.20")
        .post("/login/", {"username": f"user{i}", "password": "Winter2026!"})
        .status_code
        for i in range(25)
    ]
    assert answers[:10] == [200] * 10  # the form again, with its error
    assert set(answers[10:]) == {429}
    api = APIClient(REMOTE_ADDR="198.51.100.20")
    token = api.post("/api/v1/auth/token/", {"username": "user0", "password": "x"}, format="json")
    assert token.status_code == 429 and token["Retry-After"]
    elsewhere = Client(REMOTE_ADDR="198.51.100.21")
    assert (
        elsewhere.post("/login/", {"username": "user3", "password": "pass-word-123"}).status_code
        == 302
    )
