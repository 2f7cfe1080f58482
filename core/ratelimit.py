"""Fixed-window rate limits in the cache (Redis in production), per user and per address.

The counters fail open: with the cache unreachable, a request is let through with a warning
rather than answered 500 (core.cache makes reads miss; a counter raises, handled here).
Claim codes stay unguessable without the limit (R-VOU-5), and django-axes' lockout, kept in
the database, still guards passwords."""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework.throttling import ScopedRateThrottle

from core.cache import CACHE_ERRORS
from core.errors import ApplicationError

logger = logging.getLogger(__name__)


class RateLimited(ApplicationError):
    """429; `retry_after` (seconds until the window turns) goes out as Retry-After."""

    status_code = 429
    default_code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _trusted(address: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(request: HttpRequest) -> str:
    """The client's address, for every limit alike (the claim limit, DRF's throttles,
    django-axes, the login failure count). `X-Forwarded-For` is believed only as far as
    the proxies in front of the portal are trusted (settings TRUSTED_PROXY_COUNT: how many
    there are; TRUSTED_PROXIES: their networks): the chain is read from the right, the
    trusted hops are skipped, and the first address left is the client's. With neither
    set, the header is ignored and the peer address is the client's, so a client cannot
    pick the address it is counted under."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    count = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    networks = [
        ipaddress.ip_network(n, strict=False) for n in getattr(settings, "TRUSTED_PROXIES", [])
    ]
    if not count and not networks:
        return remote
    forwarded = [part.strip() for part in request.headers.get("x-forwarded-for", "").split(",")]
    chain = [part for part in forwarded if part] + [remote]
    if count:
        candidate = chain[max(0, len(chain) - 1 - count)]
    else:
        candidate = next((a for a in reversed(chain) if not _trusted(a, networks)), chain[0])
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:  # a misconfigured proxy: count it under the peer instead
        return remote


def axes_client_ip(request: HttpRequest) -> str | None:
    """django-axes' AXES_CLIENT_IP_CALLABLE: the same address as every other limit, or
    None when there is none (a login made in code, not over HTTP), as axes itself does:
    its address columns hold IP addresses only."""
    address = client_address(request)
    return None if address == "unknown" else address


def _count(key: str, *, window: int) -> int:
    cache.add(key, 0, timeout=window + 5)
    try:
        return cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window + 5)
        return 1


def rate_limit(*, scope: str, request: HttpRequest) -> None:
    """Counts one attempt for the user, and for the address as a coarse outer bound;
    refuses past either limit. `RATE_LIMITS[scope]` = (attempts per user, seconds);
    `RATE_LIMITS[scope + "_address"]`, when set, the address's (attempts, seconds), so
    one partner's bogus claims never lock out the others behind the same proxy; without
    it (or for anonymous clients) the address gets the user limit."""
    limit, window = settings.RATE_LIMITS[scope]
    address_limit, address_window = settings.RATE_LIMITS.get(f"{scope}_address", (limit, window))
    now = time.time()
    limits = []
    if request.user.is_authenticated:
        limits.append((f"user:{request.user.pk}", limit, window))
        limits.append((f"ip:{client_address(request)}", address_limit, address_window))
    else:
        limits.append((f"ip:{client_address(request)}", limit, window))
    for who, limit, window in limits:
        bucket = int(now // window)
        key = f"rl:{scope}:{who}:{bucket}"
        try:
            count = _count(key, window=window)
        except CACHE_ERRORS as exc:
            logger.warning("Rate limit %s not applied, cache unavailable: %s", scope, exc)
            return
        if count > limit:
            wait = max(1, math.ceil((bucket + 1) * window - now))
            raise RateLimited(
                f"Too many attempts; wait {wait} seconds and try again.", retry_after=wait
            )


class FailOpenScopedRateThrottle(ScopedRateThrottle):
    """DRF's scoped throttle, letting requests through while the cache is unreachable,
    and counting anonymous clients under `client_address` (DRF's own reads a client-set
    X-Forwarded-For)."""

    def get_ident(self, request: Any) -> str:
        return client_address(request)

    def allow_request(self, request: Any, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as exc:
            logger.warning("Throttle %s not applied, cache unavailable: %s", self.scope, exc)
            return True


# -- login failures per address, across usernames (password spraying) ----------------------


def _failure_key(request: HttpRequest) -> tuple[str, int, int]:
    limit, window = settings.LOGIN_ADDRESS_FAILURES
    return f"loginfail:{client_address(request)}:{int(time.time() // window)}", limit, window


def login_failed(
    sender: Any, credentials: Any, request: HttpRequest | None = None, **_: Any
) -> None:
    """`user_login_failed`: one more failure for the client's address, whatever the
    username (django-axes counts per username and address)."""
    if request is None:
        return
    key, _limit, window = _failure_key(request)
    try:
        _count(key, window=window)
    except CACHE_ERRORS as exc:
        logger.warning("Login failure not counted, cache unavailable: %s", exc)


def refuse_sprayed_address(request: HttpRequest) -> None:
    """429 for an address past LOGIN_ADDRESS_FAILURES = (failures, seconds) of failed
    sign-ins in the window, across every username: 25 usernames with one password each
    from one address are slowed after the limit."""
    key, limit, window = _failure_key(request)
    try:
        failures = int(cache.get(key) or 0)
    except CACHE_ERRORS:
        return
    if failures >= limit:
        now = time.time()
        wait = max(1, math.ceil((int(now // window) + 1) * window - now))
        raise RateLimited(
            f"Too many failed sign-ins from your network; wait {wait} seconds and try again.",
            retry_after=wait,
        )
