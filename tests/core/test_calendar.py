"""Calendars (#15 item 5): an activity's .ics parses with icalendar and round-trips its UID,
SEQUENCE (bumped by edits) and STATUS (cancelled); the personal feed serves only its owner's
activities over the bot's web server, and a reset link stops working."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer
from icalendar import Calendar

from adapters.web import build_app
from core.chat import Services
from tests.support import Chat

NEW_RIDGE = "/newevent hiking | Ridge walk | 2026-12-06 07:30 | Trailhead, 52.52, 13.40 | free | 8"


def _entry(reply) -> tuple[str, Calendar]:
    [card] = reply.cards
    assert card.file is not None and card.file.mime == "text/calendar"
    calendar = Calendar.from_ical(card.file.data)
    [entry] = calendar.walk("VEVENT")
    return card.file.name, entry


async def test_the_ics_round_trips_uid_sequence_and_status(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/grouptimezone hiking Europe/Berlin")
    await chat.say("maya", NEW_RIDGE)
    name, entry = _entry(await chat.click("ann", "ic:1"))
    assert name == "ridge-walk-1.ics"
    assert str(entry["UID"]) == "activity-1@community-bot"
    assert int(entry["SEQUENCE"]) == 0 and str(entry["STATUS"]) == "CONFIRMED"
    start = entry.decoded("DTSTART")
    assert start.strftime("%Y-%m-%d %H:%M") == "2026-12-06 07:30"
    assert str(start.tzinfo) == "Europe/Berlin"
    assert str(entry["SUMMARY"]) == "Ridge walk" and "Trailhead" in str(entry["LOCATION"])
    whole = Calendar.from_ical(_entry_bytes(await chat.click("ann", "ic:1")))
    assert [str(z["TZID"]) for z in whole.walk("VTIMEZONE")] == ["Europe/Berlin"]

    await chat.say("maya", "/editevent 1 time 2026-12-06 08:00")
    _, moved = _entry(await chat.click("ann", "ic:1"))
    assert str(moved["UID"]) == str(entry["UID"])  # the same entry, updated in calendars
    assert int(moved["SEQUENCE"]) == 1
    assert moved.decoded("DTSTART").strftime("%H:%M") == "08:00"
    await chat.say("maya", "/editevent 1 capacity 10")  # not shown in calendars: no bump
    _, same = _entry(await chat.click("ann", "ic:1"))
    assert int(same["SEQUENCE"]) == 1

    await chat.say("maya", "/cancelevent 1")
    _, cancelled = _entry(await chat.click("ann", "ic:1"))
    assert str(cancelled["STATUS"]) == "CANCELLED" and int(cancelled["SEQUENCE"]) == 2


def _entry_bytes(reply) -> bytes:
    return reply.cards[0].file.data


async def test_private_activities_give_no_file_to_outsiders(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Secret | | | private")
    await chat.say("maya", "/newevent secret | Picnic | 2026-12-06 12:00 | Garden")
    refused = await chat.click("olga", "ic:1")
    assert refused.alert and not any(card.file for card in refused.cards)


async def test_the_feed_serves_its_owner_only_and_a_reset_link_dies(db, clock, settings) -> None:
    settings.public_url, settings.web_port = "https://bot.example.com", 8080
    services = Services(db=db, clock=clock, settings=settings)
    chat = Chat(services)
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", NEW_RIDGE)
    await chat.say("maya", "/newevent hiking | Lake loop | 2026-12-07 09:00 | Lakeside")
    await chat.say("ann", "/signup 1")
    await chat.say("bob", "/signup 2")

    link = (await chat.say("ann", "/calendar")).text
    url = next(w for w in link.split() if w.startswith("https://bot.example.com/calendar/"))
    path = url.removeprefix("https://bot.example.com")
    client = TestClient(TestServer(build_app(services)))
    await client.start_server()
    try:
        answer = await client.get(path)
        assert answer.status == 200 and answer.content_type == "text/calendar"
        titles = [str(e["SUMMARY"]) for e in Calendar.from_ical(await answer.read()).walk("VEVENT")]
        assert titles == ["Ridge walk"]  # Ann's, not Bob's Lake loop
        assert (await chat.say("ann", "/calendar")).text == link  # the same link until reset

        fresh = (await chat.say("ann", "/calendar reset")).text
        assert "no longer works" in fresh
        assert (await client.get(path)).status == 404
        new_path = next(w for w in fresh.split() if "/calendar/" in w).removeprefix(
            "https://bot.example.com"
        )
        assert (await client.get(new_path)).status == 200
        assert (await client.get("/calendar/guess.ics")).status == 404
    finally:
        await client.close()


async def test_the_feed_is_off_without_a_public_address(chat: Chat) -> None:
    assert "not switched on" in (await chat.say("ann", "/calendar")).text
