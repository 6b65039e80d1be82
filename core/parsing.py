"""Turning what people type into values: dates, fees, capacities, coordinates.

Every adapter (console, Telegram, Discord) parses through here, so "10 EUR", "free" or
"2026-12-06 09:00" mean the same thing everywhere and fail with the same message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from core.durations import parse_duration, parse_offsets
from core.errors import InvalidInput, invalid
from core.i18n import N_

#: What people type for "nothing" where a value may be left empty ('/editevent 3 capacity
#: none', '/interests none'): one list, so "none" means the same everywhere; a field may add
#: its own words ("unlimited" for a capacity, "free" for a fee).
NONE_WORDS = ("", "-", "none")
MAX_FEE_CENTS = 100_000_000
MAX_CAPACITY = 100_000
_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "CNY", "￥": "CNY"}
_FEE = re.compile(r"^\s*([€$£¥￥])?\s*(-?\d+(?:[.,]\d{1,2})?)\s*([A-Za-z]{3}|元)?\s*$")
_DATETIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y/%m/%d %H:%M", "%d.%m.%Y %H:%M")
# two decimal numbers, any precision ("52.52, 13.4"): plain integers ("Hall 3, 2nd floor") are not
# coordinates
_COORDS = re.compile(r"(?<![\d.])(-?\d{1,3}\.\d+)\s*,\s*(-?\d{1,3}\.\d+)(?![\d.])")
_NUMBER = r"(-?\d{1,3}(?:\.\d+)?)"
# where map links put a point (OpenStreetMap, Google Maps, Apple Maps, geo: URIs)
_LINK_PAIRS = [
    re.compile(r"#map=\d+(?:\.\d+)?/" + _NUMBER + "/" + _NUMBER),  # openstreetmap.org/#map=z/la/lo
    re.compile(r"/@" + _NUMBER + "," + _NUMBER),  # google.com/maps/@la,lo,15z and /place/…/@la,lo
    re.compile(r"^geo:" + _NUMBER + "," + _NUMBER, re.IGNORECASE),  # geo:la,lo;u=35
]
_LINK_QUERY = ("ll", "q", "query", "sll", "center", "destination", "daddr")


@dataclass(frozen=True)
class Fee:
    cents: int
    currency: str | None


FREE = Fee(0, None)


def parse_fee(text: str | None, default_currency: str = "EUR") -> Fee:
    """'free', '0', '10', '10.50 EUR', '€10', '¥30', '30元' -> Fee."""
    value = (text or "").strip()
    if value.lower() in (*NONE_WORDS, "free", "0", "免费"):
        return FREE
    match = _FEE.match(value)
    if not match:
        raise invalid(
            "bad_fee", N_("I can't read the fee “{text}”. Try 10, 10 EUR or free."), text=value
        )
    symbol, amount, code = match.groups()
    try:
        cents = int((Decimal(amount.replace(",", ".")) * 100).to_integral_value())
    except InvalidOperation:  # pragma: no cover - the regex admits only numbers
        raise invalid(
            "bad_fee", N_("I can't read the fee “{text}”. Try 10, 10 EUR or free."), text=value
        ) from None
    if cents < 0:
        raise invalid("negative_fee", N_("A fee can't be negative."))
    if cents > MAX_FEE_CENTS:
        raise invalid("fee_too_high", N_("That fee is too high."))
    currency = (
        "CNY"
        if code == "元"
        else (code.upper() if code else _SYMBOLS.get(symbol or "", default_currency))
    )
    return Fee(cents, currency) if cents else FREE


def format_fee(cents: int, currency: str | None) -> str | None:
    """'10.50 EUR', or None for free (the caller says 'Free' in the person's language)."""
    if not cents:
        return None
    whole, part = divmod(cents, 100)
    amount = f"{whole}" if part == 0 else f"{whole}.{part:02d}"
    return f"{amount} {currency or ''}".strip()


def parse_capacity(text: str | None) -> int | None:
    """A whole number of seats, or None for unlimited ('', '-', 'none', 'unlimited', '0')."""
    value = (text or "").strip().lower()
    if value in (*NONE_WORDS, "unlimited", "no limit", "不限"):
        return None
    try:
        number = int(value)
    except ValueError:
        raise invalid(
            "bad_capacity", N_("Capacity must be a whole number of seats, like 12.")
        ) from None
    return check_capacity(number)


def parse_guests(text: str) -> int:
    """Guests each person may bring: a whole number, 0 (or 'none') for no guests."""
    value = text.strip().lower()
    if value in (*NONE_WORDS, "no", "0", "不"):
        return 0
    try:
        return int(value)
    except ValueError:
        raise invalid(
            "bad_guests", N_("Guests per person must be a whole number, like 2 (0 for none).")
        ) from None


def parse_offer_window(text: str) -> int | None:
    """How long a freed seat is held for the person it is offered to ('2h', '30m'), in
    seconds; 'off' (or 'none') gives freed seats at once, as without offers."""
    value = text.strip().lower()
    if value in (*NONE_WORDS, "off", "0", "关"):
        return None
    try:
        return int(parse_duration(value).total_seconds())
    except ValueError:
        raise invalid(
            "bad_offer_window",
            N_("Say how long a freed seat is held, like 2h or 30m, or off."),
        ) from None


def check_capacity(number: int | None) -> int | None:
    if number is None:
        return None
    if number < 1:
        raise invalid(
            "negative_capacity", N_("Capacity must be at least 1 (or none for no limit).")
        )
    if number > MAX_CAPACITY:
        raise invalid(
            "capacity_too_high", N_("Capacity can be at most {limit}."), limit=MAX_CAPACITY
        )
    return number


def parse_local_datetime(
    text: str, timezone: str, *, now: datetime | None = None, locale: str | None = None
) -> datetime:
    """'2026-12-06 09:00' read in `timezone` -> an aware datetime. Given `now`, also what
    people type: "tomorrow 19:00", "next Saturday 8am", "周六 早上8点" (dateparser, in the
    person's language and English, relative to `now` in that zone, the future preferred).

    A wall time that does not exist (the hour skipped when clocks go forward) is refused, with
    the nearest times that do exist: read silently it would show 02:30 on one card and 03:30
    on every other. A time that exists twice (the hour repeated when clocks go back) is the
    first of the two, as most calendars read it (docs/commands.md).
    """
    value = " ".join((text or "").split())
    zone = ZoneInfo(timezone)
    naive = _strict(value)
    if naive is None and now is not None and value:
        naive = natural_datetime(value, now.astimezone(zone).replace(tzinfo=None), locale)
    if naive is not None:
        if not _exists(naive, zone):
            before, after = _around_gap(naive, zone)
            raise invalid(
                "time_in_dst_gap",
                N_(
                    "{time} does not exist in {zone}: the clocks skip that hour. "
                    "Try {before} or {after}."
                ),
                time=naive.strftime("%Y-%m-%d %H:%M"),
                zone=timezone,
                before=before.strftime("%H:%M"),
                after=after.strftime("%H:%M"),
            )
        return naive.replace(tzinfo=zone)
    raise _unreadable(value, now)


def parse_local_end(text: str, timezone: str, now: datetime | None = None) -> datetime:
    """An end, as parse_local_datetime reads it; a day alone ('2027-02-01') is the end of
    that day (23:59). What cannot be read is quoted as typed, not with the 23:59 added."""
    value = " ".join((text or "").split())
    try:
        return parse_local_datetime(value if " " in value else f"{value} 23:59", timezone)
    except InvalidInput as error:
        if error.code != "bad_datetime":
            raise
        raise _unreadable(value, now) from None


def example_day(now: datetime) -> str:
    """A date for examples that can be copied as they are: a Saturday at least two days after
    `now` (a fixed date in an example passes, and its copy is then refused as past)."""
    today = now.date()
    ahead = (5 - today.weekday()) % 7 or 7
    return (today + timedelta(days=ahead + (7 if ahead < 2 else 0))).isoformat()


def _unreadable(value: str, now: datetime | None) -> InvalidInput:
    return invalid(
        "bad_datetime",
        N_(
            "I can't read the time “{text}”. Use YYYY-MM-DD HH:MM, like {example}, or "
            "say it: tomorrow 19:00, next Saturday 8am, 周六 早上8点."
        ),
        text=value[:40],
        example=f"{example_day(now or datetime.now(UTC))} 09:00",
    )


def _strict(value: str) -> datetime | None:
    for fmt in _DATETIME_FORMATS:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


# Chinese times of day dateparser does not read ("早上8点", "下午3点半"): rewritten as 08:00,
# 15:30 before it reads the rest (周六, 明天, 2026年12月12日 …).
_ZH_CLOCK = re.compile(r"(早上|上午|凌晨|中午|下午|晚上)?\s*(\d{1,2})\s*[点點](半|(\d{1,2})分?)?")
_ZH_EVENING = ("下午", "晚上")
_ZH_MONTH_DAY = re.compile(r"(?<![年\d])(\d{1,2})月(\d{1,2})[日号]")
_ZH_NEXT_WEEK = re.compile(r"^下(周|星期|礼拜)")


def _zh_clock(match: re.Match[str]) -> str:
    part, hour = match.group(1), int(match.group(2))
    minute = 30 if match.group(3) == "半" else int(match.group(4) or 0)
    if part in _ZH_EVENING and hour < 12:
        hour += 12
    return f" {hour:02d}:{minute:02d} "


def natural_datetime(value: str, now: datetime, locale: str | None) -> datetime | None:
    """A wall time from words, relative to `now` (naive, in the group's zone), or None; None
    also for a day said without a clock time."""
    from dateparser.date import DateDataParser  # imported on first use: it loads its data

    text = _ZH_CLOCK.sub(_zh_clock, value)
    text = _ZH_MONTH_DAY.sub(lambda m: f"{now.year}年{m.group(1)}月{m.group(2)}日", text)
    next_week = _ZH_NEXT_WEEK.match(text) is not None
    text = _ZH_NEXT_WEEK.sub(r"\1", text).strip()  # 下周六 -> 周六, moved a week below
    languages = list(dict.fromkeys([(locale or "en").split("-")[0], "en", "zh"]))
    read = DateDataParser(
        languages=languages,
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": now,
            "RETURN_AS_TIMEZONE_AWARE": False,
            "RETURN_TIME_AS_PERIOD": True,
        },
    ).get_date_data(text)
    found = read.date_obj
    if found is None or read.period != "time":
        # A day with no time of day it could read ("tomorrow", "next Saturday", "tomorrow
        # 25:00"): dateparser fills in the current time or midnight, an activity nobody meant.
        return None
    if next_week and found.isocalendar()[:2] == now.isocalendar()[:2]:
        found += timedelta(days=7)  # 下周六: Saturday of next week, not this one
    if found.date() < now.date() and _ZH_MONTH_DAY.search(value):
        found = found.replace(year=found.year + 1)  # 1月3日 said in December: next January
    return found.replace(second=0, microsecond=0)


def _exists(naive: datetime, zone: ZoneInfo) -> bool:
    """Whether the wall time happens in the zone (a round trip through UTC keeps it)."""
    aware = naive.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive


def _around_gap(naive: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The last minute before a skipped stretch of wall time and the first after it."""
    step = timedelta(minutes=1)
    before, after = naive - step, naive + step
    while not _exists(before, zone):
        before -= step
    while not _exists(after, zone):
        after += step
    return before, after


def _from_link(text: str) -> tuple[str, str] | None:
    """A point in a map link: ?mlat=&mlon= (OpenStreetMap), ?ll= / ?q= / ?query= (Apple and
    Google Maps), #map=z/lat/lon, /@lat,lon, geo:lat,lon."""
    for word in text.split():
        if "://" not in word and not word.lower().startswith("geo:"):
            continue
        url = urlsplit(word)
        query = parse_qs(url.query)
        if "mlat" in query and "mlon" in query:
            return query["mlat"][0], query["mlon"][0]
        for key in _LINK_QUERY:
            for value in query.get(key, []):
                pair = re.fullmatch(_NUMBER + r"\s*,\s*" + _NUMBER, value.strip())
                if pair:
                    return pair.group(1), pair.group(2)
        for pattern in _LINK_PAIRS:
            found = pattern.search(word)
            if found:
                return found.group(1), found.group(2)
    return None


def parse_coordinates(text: str | None) -> tuple[float, float] | None:
    """'52.52, 13.4' (any precision) or a map link with a point in it -> (lat, lng); None if
    there is none."""
    text = text or ""
    pair = _from_link(text)
    if pair is None:
        match = _COORDS.search(text)
        if not match:
            return None
        pair = match.group(1), match.group(2)
    lat, lng = float(pair[0]), float(pair[1])
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise invalid("bad_coordinates", N_("Those coordinates are off the map."))
    return lat, lng


def parse_optional_text(text: str) -> str:
    """A text that may be empty (a description): 'none' clears it, as it clears a capacity or
    the reminders, rather than becoming the text."""
    return "" if text.strip().lower() in NONE_WORDS else text


def parse_reminder_offsets(text: str) -> list[timedelta]:
    """'24h,1h', '30m', or 'none' for no reminders."""
    value = (text or "").strip().lower()
    if value in (*NONE_WORDS, "off", "0"):
        return []
    try:
        return parse_offsets(value)
    except ValueError:
        raise invalid(
            "bad_offsets",
            N_("Say none for no reminders, or times before the start like 24h,1h or 30m."),
        ) from None
