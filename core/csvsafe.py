"""Cells a spreadsheet will not run: an exported text starting with =, +, -, @, a tab or a
carriage return would be read as a formula (CSV injection), so it is prefixed with '."""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    """The cell text of `value` ("" for None), neutralised if it would start a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
