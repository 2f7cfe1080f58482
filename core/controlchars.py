"""Control characters in text: NUL and the other C0 controls and DEL. A NUL reaches
PostgreSQL as an error; the others corrupt exports and mail. Text may carry tabs and line
breaks; a path, a name or a key nothing below U+0020."""

from __future__ import annotations

import re
from typing import Any

# C0 controls and DEL; tabs and line breaks are allowed in text, never in a path or name.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def control_characters(value: str, *, text: bool) -> bool:
    return bool((CONTROL_IN_TEXT if text else CONTROL).search(value))


def control_path(value: Any, path: str = "") -> str | None:
    """The path of the first string (or key) in a parsed JSON document that carries a
    control character other than tab and line breaks, or None."""
    if isinstance(value, str):
        return path or "non_field_errors" if control_characters(value, text=True) else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if control_characters(str(key), text=False):
                return where
            found = control_path(item, where)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = control_path(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None
