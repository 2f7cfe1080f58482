"""Business days of a program (R-REV-1): no Saturdays, Sundays or holidays, from the
`holidays` package calendar the program names plus its own extra days."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import holidays


@lru_cache(maxsize=64)
def _country_days(country: str, year: int) -> frozenset[date]:
    if not country:
        return frozenset()
    try:
        return frozenset(holidays.country_holidays(country, years=year).keys())
    except NotImplementedError:
        return frozenset()


class BusinessCalendar:
    def __init__(
        self, *, country: str = "", extra_days: set[date] | frozenset[date] = frozenset()
    ) -> None:
        self.country = country
        self.extra_days = frozenset(extra_days)

    @classmethod
    def for_program(cls, program: Any) -> BusinessCalendar:
        return cls(
            country=program.holiday_country,
            extra_days=frozenset(program.holidays.values_list("date", flat=True)),
        )

    def is_business_day(self, day: date) -> bool:
        return (
            day.weekday() < 5
            and day not in self.extra_days
            and day not in _country_days(self.country, day.year)
        )

    def add(self, start: date, days: int) -> date:
        """The day `days` business days after `start` (start itself does not count)."""
        day = start
        remaining = days
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_business_day(day):
                remaining -= 1
        return day

    def between(self, start: date, end: date) -> int:
        """Business days after `start` up to and including `end` (0 when end <= start)."""
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_business_day(day):
                count += 1
        return count
