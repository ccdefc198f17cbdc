"""Reading loosely typed upstream JSON values (shared by the parsers)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, tzinfo

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


def json_date(value: object) -> date | None:
    """``"2024-03-22"`` -> date; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def json_datetime(value: object, *, naive_tz: tzinfo = UTC) -> datetime | None:
    """An ISO 8601 timestamp -> aware UTC datetime; a value without an offset is read in
    ``naive_tz`` (each upstream has its own); None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=naive_tz)
    return moment.astimezone(UTC)
