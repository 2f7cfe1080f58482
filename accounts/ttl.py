"""How long an API token lives (api.md: setting `API_TOKEN_TTL`, default 10 hours, never
more than 30 days).

Imported by the settings themselves, so it imports nothing that needs Django set up. A
value above the ceiling (or not above zero) is refused when the settings load, not
clamped: an operator who asked for 90 days learns at start-up that the portal will not
give them, instead of finding out from tokens that die after 30.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured
from django.utils.dateparse import parse_duration

DEFAULT_TTL = timedelta(hours=10)
MAX_TTL = timedelta(days=30)


def check_ttl(ttl: timedelta, *, source: str = "API_TOKEN_TTL") -> timedelta:
    """`ttl` itself when 0 < ttl <= 30 days; ImproperlyConfigured otherwise."""
    if ttl <= timedelta(0):
        raise ImproperlyConfigured(f"{source} must be longer than zero, not {ttl}.")
    if ttl > MAX_TTL:
        raise ImproperlyConfigured(
            f"{source} is {ttl}; an API token may live at most {MAX_TTL.days} days "
            f"({int(MAX_TTL.total_seconds())} seconds)."
        )
    return ttl


def parse_ttl(value: str | int | timedelta) -> timedelta:
    """Whole seconds (`36000`), or a duration Django reads (`10:00:00`, `7 00:00:00`,
    ISO 8601 `PT10H` or `P7D`), checked against the ceiling."""
    if isinstance(value, timedelta):
        return check_ttl(value)
    if isinstance(value, int):
        return check_ttl(timedelta(seconds=value))
    text = value.strip()
    ttl = timedelta(seconds=int(text)) if text.isdigit() else parse_duration(text)
    if ttl is None:
        raise ImproperlyConfigured(
            f"API_TOKEN_TTL={value!r} is neither whole seconds nor a duration "
            "such as 10:00:00 or PT10H."
        )
    return check_ttl(ttl)
