from __future__ import annotations

import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    """Calendar months later, clamped to the month's last day (R-VOU-2: 31 August plus
    six months is the last day of February, the 29th in a leap year)."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def add_years(day: date, years: int) -> date:
    """Same day N years later; 29 February becomes 28 February in a common year."""
    return add_months(day, 12 * years)
