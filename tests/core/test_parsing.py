"""What people type becomes the right value, or a clear refusal with a stable code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.durations import MAX_OFFSET, format_duration, parse_duration, parse_offsets
from core.errors import DomainError
from core.parsing import (
    FREE,
    MAX_CAPACITY,
    Fee,
    format_fee,
    parse_capacity,
    parse_coordinates,
    parse_fee,
    parse_local_datetime,
)


def _code(call, *args) -> str:
    with pytest.raises(DomainError) as caught:
        call(*args)
    return caught.value.code


# ---- fees ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fee"),
    [
        ("free", FREE),
        ("Free", FREE),
        ("", FREE),
        ("0", FREE),
        ("0.00", FREE),
        ("免费", FREE),
        ("10", Fee(1000, "EUR")),
        ("10.5 EUR", Fee(1050, "EUR")),
        ("10,50 eur", Fee(1050, "EUR")),
        ("€10", Fee(1000, "EUR")),
        ("$7.25", Fee(725, "USD")),
        ("£3", Fee(300, "GBP")),
        ("¥30", Fee(3000, "CNY")),
        ("30元", Fee(3000, "CNY")),
        (" 12 usd ", Fee(1200, "USD")),
    ],
)
def test_fee_is_read(text: str, fee: Fee) -> None:
    assert parse_fee(text) == fee


def test_fee_without_currency_uses_the_default() -> None:
    assert parse_fee("25", default_currency="CNY") == Fee(2500, "CNY")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("-5", "negative_fee"),
        ("-0.01", "negative_fee"),
        ("abc", "bad_fee"),
        ("10.555", "bad_fee"),
        ("1e3", "bad_fee"),
        ("10 euros", "bad_fee"),
        ("10 EUR 5", "bad_fee"),
        ("1000001", "fee_too_high"),
    ],
)
def test_bad_fee_is_refused(text: str, code: str) -> None:
    assert _code(parse_fee, text) == code


def test_fee_is_shown_as_typed() -> None:
    assert format_fee(1050, "EUR") == "10.50 EUR"
    assert format_fee(1000, "CNY") == "10 CNY"
    assert format_fee(0, None) is None
    assert format_fee(parse_fee("€7.5").cents, "EUR") == "7.50 EUR"


# ---- capacity ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seats"),
    [
        ("12", 12),
        (" 3 ", 3),
        ("1", 1),
        ("", None),
        ("none", None),
        ("unlimited", None),
        ("-", None),
        (str(MAX_CAPACITY), MAX_CAPACITY),
    ],
)
def test_capacity_is_read(text: str, seats: int | None) -> None:
    assert parse_capacity(text) == seats


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("-3", "negative_capacity"),
        ("0", "negative_capacity"),  # not "unlimited": a 0 is more likely a slip
        ("twelve", "bad_capacity"),
        ("1.5", "bad_capacity"),
        (str(MAX_CAPACITY + 1), "capacity_too_high"),
    ],
)
def test_bad_capacity_is_refused(text: str, code: str) -> None:
    assert _code(parse_capacity, text) == code


# ---- date and time -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-06 09:00",
        "2026-12-06T09:00",
        "2026/12/06 09:00",
        "06.12.2026 09:00",
        "  2026-12-06    09:00 ",
    ],
)
def test_datetime_formats(text: str) -> None:
    assert parse_local_datetime(text, "UTC") == datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def test_datetime_is_read_in_the_given_timezone() -> None:
    shanghai = parse_local_datetime("2026-12-06 09:00", "Asia/Shanghai")
    assert shanghai.astimezone(UTC) == datetime(2026, 12, 6, 1, 0, tzinfo=UTC)


def test_datetime_follows_daylight_saving_time() -> None:
    winter = parse_local_datetime("2026-12-06 09:00", "Europe/Berlin")
    summer = parse_local_datetime("2026-07-06 09:00", "Europe/Berlin")
    assert winter.astimezone(UTC).hour == 8  # CET, UTC+1
    assert summer.astimezone(UTC).hour == 7  # CEST, UTC+2
    # the hour that happens twice (clocks go back on 25 Oct 2026) takes its first reading
    twice = parse_local_datetime("2026-10-25 02:30", "Europe/Berlin")
    assert twice.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    # and that day is 25 hours long: 09:00 to 09:00 the next morning is 25 real hours
    before = parse_local_datetime("2026-10-24 09:00", "Europe/Berlin").astimezone(UTC)
    after = parse_local_datetime("2026-10-25 09:00", "Europe/Berlin").astimezone(UTC)
    assert after - before == timedelta(hours=25)


@pytest.mark.parametrize(
    "text",
    [
        "tomorrow",
        "",
        "2026-13-01 09:00",
        "2026-02-30 10:00",
        "2026-12-06",
        "09:00",
        "2026-12-06 25:00",
    ],
)
def test_unreadable_datetime_is_refused(text: str) -> None:
    assert _code(parse_local_datetime, text, "UTC") == "bad_datetime"


def test_unreadable_datetime_message_quotes_only_the_start_of_long_text() -> None:
    with pytest.raises(DomainError) as caught:
        parse_local_datetime("x" * 5000, "UTC")
    assert len(str(caught.value)) < 200


# ---- coordinates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "point"),
    [
        ("52.52, 13.40", (52.52, 13.40)),
        ("52.5200,13.4050", (52.52, 13.405)),
        ("-33.86, 151.21", (-33.86, 151.21)),
        ("Trailhead car park, 52.5200, 13.4050", (52.52, 13.405)),
        ("https://maps.google.com/?q=52.52,13.40", (52.52, 13.40)),
        ("https://www.google.com/maps/@40.7128,-74.0060,15z", (40.7128, -74.006)),
        ("geo:48.85,2.35", (48.85, 2.35)),
        ("90.0, 180.0", (90, 180)),  # the map's edges are on it
        ("-90.0, -180.0", (-90, -180)),
    ],
)
def test_coordinates_are_found(text: str, point: tuple[float, float]) -> None:
    assert parse_coordinates(text) == pytest.approx(point)


@pytest.mark.parametrize(
    "text", ["Main St 12, 3", "Hauptstr. 5, 10115 Berlin", "Trailhead", "", "Gate 4.5, 2"]
)
def test_plain_addresses_are_not_coordinates(text: str) -> None:
    assert parse_coordinates(text) is None


@pytest.mark.parametrize(
    "text", ["95.00, 13.40", "-91.00, 0.00", "52.52, 190.00", "123.45, 10.00", "-123.45, 10.00"]
)
def test_coordinates_off_the_map_are_refused(text: str) -> None:
    assert _code(parse_coordinates, text) == "bad_coordinates"


def test_a_longer_number_is_never_read_from_its_middle() -> None:
    """'1234.56' is not latitude 34.56 (or 234.56): no silently misplaced map pin."""
    for text in ("1234.56, 10.00", "Gate 7123.45, 10.00"):
        try:
            found = parse_coordinates(text)
        except DomainError as error:
            assert error.code == "bad_coordinates"
        else:
            assert found is None, text


# ---- durations (reminder offsets) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        ("2d", timedelta(days=2)),
        (" 24 H ", timedelta(hours=24)),
        ("60d", MAX_OFFSET),
    ],
)
def test_duration_is_read(text: str, value: timedelta) -> None:
    assert parse_duration(text) == value


@pytest.mark.parametrize("text", ["", "0s", "61d", "1.5h", "h", "5x", "-1h", "1h30m", "9999999s"])
def test_bad_duration_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_offsets_are_sorted_longest_first_without_duplicates() -> None:
    assert parse_offsets("1h,24h,60m; 30m") == [
        timedelta(hours=24),
        timedelta(hours=1),
        timedelta(minutes=30),
    ]
    assert parse_offsets("") == []
    with pytest.raises(ValueError):
        parse_offsets("24h,soon")


@pytest.mark.parametrize("text", ["90s", "15m", "1h", "36h", "2d", "45s"])
def test_duration_formats_back_to_what_was_typed(text: str) -> None:
    assert format_duration(parse_duration(text)) == text


def test_duration_formats_in_the_largest_exact_unit() -> None:
    assert format_duration(timedelta(seconds=3600)) == "1h"
    assert format_duration(timedelta(minutes=90)) == "90m"
    assert format_duration(timedelta(hours=48)) == "2d"


# ---- natural dates (#15 item 1) --------------------------------------------------------------

NOW = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)  # Monday, noon in Shanghai, 05:00 in Berlin


@pytest.mark.parametrize(
    ("typed", "locale", "zone", "expected"),
    [
        ("tomorrow 19:00", "en", "Europe/Berlin", "2026-12-08 19:00"),
        ("next Saturday 8am", "en", "Europe/Berlin", "2026-12-12 08:00"),
        ("Saturday 8:30pm", "en", "Europe/Berlin", "2026-12-12 20:30"),
        ("2026-12-12 18:00", "en", "Europe/Berlin", "2026-12-12 18:00"),
        ("周六 早上8点", "zh", "Asia/Shanghai", "2026-12-12 08:00"),
        ("明天下午3点半", "zh", "Asia/Shanghai", "2026-12-08 15:30"),
        ("下周六 晚上7点", "zh", "Asia/Shanghai", "2026-12-19 19:00"),
        ("12月24日 18:00", "zh", "Asia/Shanghai", "2026-12-24 18:00"),
        ("周日 14:30", "en", "Asia/Shanghai", "2026-12-13 14:30"),  # Chinese in English too
    ],
)
def test_natural_dates_in_the_persons_language_and_the_groups_zone(
    typed: str, locale: str, zone: str, expected: str
) -> None:
    parsed = parse_local_datetime(typed, zone, now=NOW, locale=locale)
    assert parsed.strftime("%Y-%m-%d %H:%M") == expected
    assert str(parsed.tzinfo) == zone


def test_words_that_are_no_time_are_refused_with_examples() -> None:
    with pytest.raises(DomainError) as caught:
        parse_local_datetime("whenever", "UTC", now=NOW, locale="en")
    assert caught.value.code == "bad_datetime"
    assert "tomorrow 19:00" in str(caught.value)
    with pytest.raises(DomainError):  # without a clock only the exact formats are read
        parse_local_datetime("tomorrow 19:00", "UTC")


@pytest.mark.parametrize(
    "typed", ["tomorrow", "next Saturday", "tomorrow 25:00", "tomorrow 19:70", "Saturday 8", "明天"]
)
def test_a_day_without_a_time_it_can_read_is_refused_not_set_to_now_or_midnight(
    typed: str,
) -> None:
    """dateparser fills in the time of day it could not read: the current time ("tomorrow",
    "tomorrow 25:00") or midnight ("next Saturday"). An activity at either is one nobody meant,
    so the person is asked for a time instead."""
    with pytest.raises(DomainError) as caught:
        parse_local_datetime(typed, "Europe/Berlin", now=NOW, locale="en")
    assert caught.value.code == "bad_datetime"
