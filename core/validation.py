"""Checks on free text that people type, shared by every service: one place for each limit."""

from __future__ import annotations

import re
import unicodedata
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from core.errors import Term, invalid
from core.i18n import N_

FIELD_LABELS = {
    "title": N_("title"),
    "place": N_("place"),
    "description": N_("description"),
    "name": N_("name"),
    "post": N_("post"),
    "reply": N_("reply"),
}
# Terminal escape sequences whole, then any other control character but newline and tab.
UNSAFE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|[\x00-\x08\x0b-\x1f\x7f-\x9f]")
MAX_ID = 2**31 - 1  # row ids are INTEGER columns; PostgreSQL refuses bigger numbers outright


def is_id(value: int) -> bool:
    """Whether a number someone typed or a client sent can be a row id at all."""
    return 0 < value <= MAX_ID


def clean_text(value: str | None, *, field: str, min_len: int, max_len: int) -> str:
    """Strip, normalise and bound a piece of user text; raise `<field>_empty`/`<field>_too_long`.

    Control characters (other than newlines and tabs) are removed: they break rendering on
    every platform and carry no meaning in a title or a post.
    """
    text = unicodedata.normalize("NFC", UNSAFE.sub("", value or "")).strip()
    label = Term(FIELD_LABELS.get(field, field))
    if not text and min_len:
        raise invalid(f"{field}_empty", N_("The {field} can't be empty."), field=label)
    if len(text) < min_len:
        raise invalid(
            f"{field}_too_short",
            N_("The {field} is too short: at least {limit} characters."),
            field=label,
            limit=min_len,
        )
    if len(text) > max_len:
        raise invalid(
            f"{field}_too_long",
            N_("The {field} is too long ({length} characters; at most {limit})."),
            field=label,
            length=len(text),
            limit=max_len,
        )
    return text


# What separates the fields of a command ("title | time | place"): the ASCII bar, and the
# full-width one that Chinese and Japanese keyboards type in its place.
BARS = re.compile(r"[|\uff5c]")


def partition_bar(text: str) -> tuple[str, str, str]:
    """str.partition at the first bar of either width: (before, the bar or "", after)."""
    found = BARS.search(text)
    if found is None:
        return text, "", ""
    return text[: found.start()], found.group(), text[found.end() :]


def one_line(value: str) -> str:
    return " ".join(value.split())


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid(
            "bad_timezone",
            N_(
                "“{name}” is not a timezone I know. Try a name like Europe/Berlin or Asia/Shanghai."
            ),
            name=name,
        ) from None
    return name


def find_timezone(name: str) -> str:
    """Accept a timezone name in any letter case ('europe/berlin')."""
    if "/" in name or name.upper() == "UTC":
        lowered = name.lower()
        for candidate in _all_timezones():
            if candidate.lower() == lowered:
                return candidate
    return check_timezone(name)


_ZONES: list[str] = []


def _all_timezones() -> list[str]:
    if not _ZONES:
        _ZONES.extend(sorted(available_timezones()))
    return _ZONES
