"""Parsing of short durations such as `24h`, `90s` or `15m`, used for reminder offsets."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_ONE = re.compile(r"^\s*(\d{1,6})\s*([smhd])\s*$", re.IGNORECASE)
MAX_OFFSET = timedelta(days=60)


def parse_duration(text: str) -> timedelta:
    """`'90s'` -> 90 seconds. Raises ValueError on anything else, so bad config fails at start."""
    match = _ONE.match(text)
    if not match:
        raise ValueError(f"not a duration like 90s, 15m, 1h or 2d: {text!r}")
    value = timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2).lower()])
    if not timedelta(0) < value <= MAX_OFFSET:
        raise ValueError(f"duration must be between 1s and 60d: {text!r}")
    return value


def parse_offsets(text: str) -> list[timedelta]:
    """`'24h,1h'` -> [24h, 1h], longest first, duplicates removed. Empty text means none."""
    parts = [p for p in text.replace(";", ",").split(",") if p.strip()]
    return sorted({parse_duration(p) for p in parts}, reverse=True)


def format_duration(value: timedelta) -> str:
    """The inverse of parse_duration, in the largest exact unit: 3600s -> '1h'."""
    seconds = int(value.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"
