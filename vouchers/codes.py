"""Voucher codes: unguessable, readable aloud, with a check character.

16 characters from a 32-letter alphabet without look-alikes (no 0/O, 1/I), shown in
groups of four: 15 random characters (75 bits from `secrets`) and one Luhn mod 32
check character, so a mistyped code is recognised as mistyped, not as "not found".
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
RANDOM_LENGTH = 15
GROUP = 4


def _check_character(body: str) -> str:
    """Luhn mod N over the alphabet (catches every single-character error and most
    swaps of neighbours)."""
    n = len(ALPHABET)
    total = 0
    factor = 2
    for char in reversed(body):
        addend = factor * _INDEX[char]
        addend = (addend // n) + (addend % n)
        total += addend
        factor = 1 if factor == 2 else 2
    return ALPHABET[(n - (total % n)) % n]


def format_code(raw: str) -> str:
    return "-".join(raw[i : i + GROUP] for i in range(0, len(raw), GROUP))


def generate_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return format_code(body + _check_character(body))


class MalformedCode(ValueError):
    """The text cannot be a voucher code (wrong length, letters or check character)."""


def normalise_code(text: str) -> str:
    """Accepts any case, spaces and dashes; returns the canonical `XXXX-XXXX-XXXX-XXXX`
    or raises MalformedCode saying what is wrong."""
    raw = "".join(ch for ch in (text or "").upper() if ch not in " -\t")
    if len(raw) != RANDOM_LENGTH + 1:
        raise MalformedCode(
            f"A voucher code has {RANDOM_LENGTH + 1} characters; this one has {len(raw)}."
        )
    bad = sorted({ch for ch in raw if ch not in _INDEX})
    if bad:
        raise MalformedCode(
            f"A voucher code never contains {', '.join(repr(c) for c in bad)} "
            "(no 0, O, 1 or I are used)."
        )
    if _check_character(raw[:-1]) != raw[-1]:
        raise MalformedCode("This voucher code is mistyped: its check character does not match.")
    return format_code(raw)
