"""Reading loosely typed upstream JSON values (shared by the parsers)."""

from __future__ import annotations

import re

_ASCII_DIGITS = re.compile(r"[0-9]+")


def json_int(value: object) -> int | None:
    """An int, or a string of ASCII digits (Kodik and Shikimori send ids both ways); never a
    bool or a float."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _ASCII_DIGITS.fullmatch(value.strip()):
        return int(value.strip())
    return None


def json_positive_int(value: object) -> int | None:
    number = json_int(value)
    return number if number is not None and number > 0 else None


def json_text(value: object) -> str:
    """A stripped string; "" for null or any non-string."""
    return value.strip() if isinstance(value, str) else ""
