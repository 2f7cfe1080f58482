"""Fixed-window rate limits in the cache (Redis in production), per user and per address."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from core.errors import ApplicationError


class RateLimited(ApplicationError):
    status_code = 429
    default_code = "rate_limited"


def client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def rate_limit(*, scope: str, request: HttpRequest) -> None:
    """Counts one attempt for the user and for the address; refuses past the limit
    (`RATE_LIMITS[scope]` = (attempts, seconds))."""
    limit, window = settings.RATE_LIMITS[scope]
    bucket = int(time.time() // window)
    keys = [f"rl:{scope}:ip:{client_address(request)}:{bucket}"]
    if request.user.is_authenticated:
        keys.append(f"rl:{scope}:user:{request.user.pk}:{bucket}")
    for key in keys:
        cache.add(key, 0, timeout=window + 5)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, timeout=window + 5)
            count = 1
        if count > limit:
            raise RateLimited(f"Too many attempts; wait {window} seconds and try again.")
