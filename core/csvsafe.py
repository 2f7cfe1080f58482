"""Cells a spreadsheet will not run: an exported text starting with =, +, -, @, a tab or a
carriage return would be read as a formula (CSV injection), so it is prefixed with '.
`csv_restored` undoes that for a file the portal wrote coming back (an import's error
report, corrected and imported again)."""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    """The cell text of `value` ("" for None), neutralised if it would start a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_restored(text: str) -> str:
    """The text `csv_safe` neutralised, as it was: a leading ' before a formula start is
    dropped. Cells are read stripped, so only =, +, - and @ can follow it."""
    return text[1:] if text[:1] == "'" and text[1:2].startswith(FORMULA_START) else text
