"""Fixed-window rate limits in the cache (Redis in production), per user and per address.

The counters fail open: with the cache unreachable, a request is let through with a warning
rather than answered 500 (core.cache makes reads miss; a counter raises, handled here).
Claim codes stay unguessable without the limit (R-VOU-5), and django-axes' lockout, kept in
the database, still guards passwords."""

from __future__ import annotations

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


def client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _count(key: str, *, window: int) -> int:
    cache.add(key, 0, timeout=window + 5)
    try:
        return cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window + 5)
        return 1


def rate_limit(*, scope: str, request: HttpRequest) -> None:
    """Counts one attempt for the user and for the address; refuses past the limit
    (`RATE_LIMITS[scope]` = (attempts, seconds))."""
    limit, window = settings.RATE_LIMITS[scope]
    now = time.time()
    bucket = int(now // window)
    keys = [f"rl:{scope}:ip:{client_address(request)}:{bucket}"]
    if request.user.is_authenticated:
        keys.append(f"rl:{scope}:user:{request.user.pk}:{bucket}")
    for key in keys:
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
    """DRF's scoped throttle, letting requests through while the cache is unreachable."""

    def allow_request(self, request: Any, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as exc:
            logger.warning("Throttle %s not applied, cache unavailable: %s", self.scope, exc)
            return True
