"""Checks on free text that people type, shared by every service: one place for each limit."""

from __future__ import annotations

import functools
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


def as_group_number(text: str) -> int | None:
    """The group number a typed reference stands for ('3' or '#3'), if it reads as one: such
    text names group #3 before any group's name or slug (core.services.groups.find_group)."""
    digits = text.lstrip("#")
    if digits.isascii() and digits.isdigit() and is_id(int(digits)):
        return int(digits)
    return None


#: Latin letters that no accent-stripping turns into ASCII, spelt as their languages do when
#: writing without them ('Straße' -> 'strasse', 'Bjørn' -> 'bjorn').
_LATIN_LETTERS = str.maketrans(
    {
        "ß": "ss",
        "ẞ": "SS",
        "ø": "o",
        "Ø": "O",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "đ": "d",
        "Đ": "D",
        "ł": "l",
        "Ł": "L",
        "þ": "th",
        "Þ": "TH",
        "ð": "d",
        "Ð": "D",
        "ı": "i",
    }
)


def slugify(name: str) -> str:
    """A group's ASCII slug for commands and deep links ('Trail Runners!' -> 'trail-runners',
    'Über Wandern' -> 'uber-wandern', 'Straße' -> 'strasse'), or "" for a name that has none:

    - a name with letters or digits that are not ASCII even without their accents ('读书会2',
      '读书 Club'): what is left of it ('2', 'club') is not its name, and other such names
      ('跑步2', '跑步 Club') would clash with it;
    - a slug of digits only ('＃1' -> '1'): it would be read as a group number.

    A group without a slug is found, and named in hints, by its name (Group.handle).
    """
    decomposed = unicodedata.normalize("NFKD", name).translate(_LATIN_LETTERS)
    if any(char.isalnum() and not char.isascii() for char in decomposed):
        return ""
    ascii_name = decomposed.encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40]
    return "" if slug.isdigit() else slug


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
    """The IANA timezone a name stands for, typed in any letter case ('europe/berlin', 'utc'),
    by its proper name ('Europe/Berlin'): the one reading of a timezone, for a person's
    (/settings timezone) and a group's (/grouptimezone) alike."""
    typed = name.strip()
    zone = _zones_by_lower_name().get(typed.lower())
    if zone is not None:
        return zone
    try:
        ZoneInfo(typed)  # one the list of available zones leaves out
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid(
            "bad_timezone",
            N_(
                "“{name}” is not a timezone I know. Try a name like Europe/Berlin or Asia/Shanghai."
            ),
            name=typed,
        ) from None
    return typed


@functools.cache
def _zones_by_lower_name() -> dict[str, str]:
    return {zone.lower(): zone for zone in available_timezones()}
