"""Django's Redis cache, failing open: with Redis unreachable, reads miss and writes are
skipped, with a warning, instead of failing the request.

Everything the portal caches can be computed again (the dashboard's figures) or may be
skipped for a while (rate-limit counters), so a cache outage costs time, never a 500.
Counters (`incr`, `decr`) still raise: only their caller knows what a missing count means
(core.ratelimit lets the request through). The socket timeouts are in the settings."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
CACHE_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError)


def _fails_open(name: str, fallback: Callable[..., Any]) -> Any:
    """RedisCache's method `name`, answering `fallback(*args)` when Redis is unreachable."""
    method = getattr(RedisCache, name)

    @functools.wraps(method)
    def wrapper(self: RedisCache, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except CACHE_ERRORS as exc:
            logger.warning("Cache unavailable, %s skipped: %s", name, exc)
            return fallback(*args, **kwargs)

    return wrapper


def _nothing(*args: Any, **kwargs: Any) -> None:
    return None


def _false(*args: Any, **kwargs: Any) -> bool:
    return False


class FailOpenRedisCache(RedisCache):
    get = _fails_open("get", lambda key, default=None, version=None: default)
    get_many = _fails_open("get_many", lambda *args, **kwargs: {})
    has_key = _fails_open("has_key", _false)
    set = _fails_open("set", _nothing)
    add = _fails_open("add", _false)
    touch = _fails_open("touch", _false)
    set_many = _fails_open("set_many", lambda data, *args, **kwargs: list(data))  # not set
    delete = _fails_open("delete", _false)
    delete_many = _fails_open("delete_many", _nothing)
