"""One community across Telegram and Discord: both adapters in one process, each against its
emulator, over one database (SQLite, and PostgreSQL where required)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from adapters.console.chat import ConsoleChat, ConsoleNotifier
from core.chat import Services
from core.db import Database
from core.scheduler import ReminderRunner
from tests.discord_harness import CHANNEL, DiscordHarness, text_of
from tests.emulators.discord import EmuUser as DcUser
from tests.emulators.telegram import EmuUser as TgUser
from tests.emulators.telegram import TelegramEmulator
from tests.harness import TelegramHarness

GROUP_CHAT = -100200300


@dataclass
class Both:
    tg: TelegramHarness
    dc: DiscordHarness


@pytest.fixture
async def both(db: Database, clock, settings) -> AsyncIterator[Both]:
    services = Services(db=db, clock=clock, settings=settings)
    async with TelegramEmulator() as emu, DiscordHarness.running(services) as dc:
        tg = TelegramHarness(emu, services, workers=dc.workers)
        await tg.start()
        try:
            yield Both(tg, dc)
        finally:
            await tg.stop()


def _tg_text(message: dict) -> str:
    return message["plain"] or ""


async def _homed_on_both(both: Both) -> tuple[TgUser, DcUser]:
    """Hiking, owned by Maya on Telegram, homed in a Telegram group chat and in the Discord
    channel that Dan (an admin of it) runs; returns (Maya, Dan)."""
    tg, dc = both.tg, both.dc
    maya = tg.emu.add_user(1, "Maya")
    tg.emu.add_group_chat(GROUP_CHAT, "Hikers", admins=[1])
    await tg.say(maya, "/newgroup Hiking")
    await tg.say(maya, "/bindgroup hiking", chat_id=GROUP_CHAT)
    dan = dc.add_user(50, "Dan", manager=True)
    await dc.slash(dan, "join", group="hiking")
    await tg.say(maya, "/promote hiking Dan")
    await dc.slash(dan, "bindgroup", group="hiking")
    return maya, dan


async def test_a_group_with_homes_on_both_platforms_shares_one_roster(both: Both) -> None:
    tg, dc = both.tg, both.dc
    maya = tg.emu.add_user(1, "Maya")
    tg.emu.add_group_chat(GROUP_CHAT, "Hikers", admins=[1])
    await tg.say(maya, "/newgroup Hiking")
    await tg.say(maya, "/bindgroup hiking", chat_id=GROUP_CHAT)
    dan = dc.add_user(50, "Dan", manager=True)  # runs the Discord server
    await dc.slash(dan, "join", group="hiking")
    await tg.say(maya, "/promote hiking Dan")  # an admin on another platform
    bound = await dc.slash(dan, "bindgroup", group="hiking")
    assert "now the home of Hiking" in bound.text

    before = len(dc.emu.messages(CHANNEL))
    await tg.say(maya, "/newevent hiking | Ridge walk | 2026-12-06 07:30 | Trailhead | free | 2")
    [tg_card] = [m for m in tg.emu.messages(GROUP_CHAT) if "Ridge walk" in _tg_text(m)]
    [dc_card] = [m for m in dc.emu.messages(CHANNEL)[before:] if "Ridge walk" in text_of(m)]

    def same_counts(expected: str) -> None:
        assert expected in _tg_text(tg.current(tg_card))
        assert expected in text_of(dc.current(dc_card))

    zoe = tg.emu.add_user(9, "Zoe")
    await tg.say(zoe, "/start")
    await tg.click(zoe, tg_card, "Sign up")
    same_counts("1/2 going")
    ann = dc.add_user(60, "Ann")
    await dc.click(ann, dc_card, "Sign up")
    same_counts("2/2 going")
    bob = dc.add_user(61, "Bob")
    await dc.click(bob, dc_card, "Sign up")  # full: Bob waits
    same_counts("2/2 going, 1 on the waitlist")

    who = await tg.say(maya, "/who 1")  # one roster, whatever platform people came from
    roster = "\n".join(_tg_text(m) for m in who)
    assert "1. Zoe · Telegram" in roster and "2. Ann · Discord" in roster  # marked, once each
    assert "1. Bob · Discord" in roster  # the waitlist

    await tg.click(zoe, tg.current(tg_card), "Cancel")  # a Telegram cancellation...
    same_counts("2/2 going")
    promoted = dc.dms(bob)  # ...promotes the waitlisted Discord user, told once on Discord
    assert len(promoted) == 1 and "a seat opened up" in text_of(promoted[0])


async def test_several_homes_on_one_platform_and_unbinding(tg: TelegramHarness) -> None:
    maya = tg.emu.add_user(1, "Maya")
    other_chat = GROUP_CHAT - 1
    tg.emu.add_group_chat(GROUP_CHAT, "Hikers", admins=[1])
    tg.emu.add_group_chat(other_chat, "Hikers (Berlin)", admins=[1])
    await tg.say(maya, "/newgroup Hiking")
    await tg.say(maya, "/bindgroup hiking", chat_id=GROUP_CHAT)
    await tg.say(maya, "/bindgroup hiking", chat_id=other_chat)
    await tg.say(maya, "/newevent hiking | Ridge walk | 2026-12-06 07:30 | Trailhead")
    for chat in (GROUP_CHAT, other_chat):
        assert any("Ridge walk" in _tg_text(m) for m in tg.emu.messages(chat))

    zoe = tg.emu.add_user(9, "Zoe")
    refused = await tg.say(zoe, "/unbindgroup hiking", chat_id=other_chat)
    assert "Only this chat's admins" in _tg_text(refused[-1])
    done = await tg.say(maya, "/unbindgroup hiking", chat_id=other_chat)
    assert "no longer a home of Hiking" in _tg_text(done[-1])
    again = await tg.say(maya, "/unbindgroup hiking", chat_id=other_chat)
    assert "not a home of Hiking" in _tg_text(again[-1])
    await tg.say(maya, "/newevent hiking | Lake loop | 2026-12-07 07:30 | Lakeside")
    assert any("Lake loop" in _tg_text(m) for m in tg.emu.messages(GROUP_CHAT))
    assert not any("Lake loop" in _tg_text(m) for m in tg.emu.messages(other_chat))


async def test_a_linked_person_holds_one_seat_and_gets_one_reminder(both: Both) -> None:
    """Lee signed up from Telegram and from Discord before linking the two accounts: after
    /link, one seat (the other went to the waitlist's first), one reminder, on one platform."""
    tg, dc = both.tg, both.dc
    maya = tg.emu.add_user(1, "Maya")
    await tg.say(maya, "/newgroup Hiking")
    await tg.say(maya, "/newevent hiking | Ridge walk | 2026-11-22 12:00 | Trailhead | free | 2")
    lee_tg, lee_dc, zoe = tg.emu.add_user(7, "Lee"), dc.add_user(70, "Lee"), dc.add_user(71, "Zoe")
    await tg.say(lee_tg, "/signup 1")
    await dc.slash(lee_dc, "signup", activity=1)
    await dc.slash(zoe, "signup", activity=1)  # waits: Lee holds both seats

    asked = "\n".join(_tg_text(m) for m in await tg.say(lee_tg, "/link"))
    code = next(line for line in asked.splitlines() if line.startswith("Your code: "))[11:]
    linked = await dc.slash(lee_dc, "link", code=code)
    assert "Linked" in linked.text
    assert len(dc.dms(zoe)) == 1 and "a seat opened up" in text_of(dc.dms(zoe)[0])

    who = "\n".join(_tg_text(m) for m in await tg.say(maya, "/who 1"))
    assert who.count("Lee") == 1 and "Zoe" in who

    before_tg = len(tg.emu.messages(lee_tg.id))
    before_dc = len(dc.dms(lee_dc))
    tg.services.clock.set(datetime(2026, 11, 22, 11, 0, tzinfo=UTC))  # an hour before
    await ReminderRunner(tg.services).run_due()
    await tg.settled()
    new_tg = [m for m in tg.emu.messages(lee_tg.id)[before_tg:] if "Reminder" in _tg_text(m)]
    new_dc = [m for m in dc.dms(lee_dc)[before_dc:] if "Reminder" in text_of(m)]
    assert len(new_tg) + len(new_dc) == 1  # one reminder, not one per account
    assert len(new_dc) == 1  # where Lee wrote last: Discord


async def test_the_console_is_a_third_platform_on_the_same_roster(both: Both) -> None:
    """The console adapter (#13 item 5) joins the same community: a console sign-up shows on
    the Telegram and Discord cards, and the roster marks each platform."""
    tg, dc = both.tg, both.dc
    maya, dan = await _homed_on_both(both)
    before = len(dc.emu.messages(CHANNEL))
    await tg.say(maya, "/newevent hiking | Ridge walk | 2026-12-06 07:30 | Trailhead | free | 5")
    [tg_card] = [m for m in tg.emu.messages(GROUP_CHAT) if "Ridge walk" in _tg_text(m)]
    [dc_card] = [m for m in dc.emu.messages(CHANNEL)[before:] if "Ridge walk" in text_of(m)]
    await dc.click(dan, dc_card, "Sign up")

    out = io.StringIO()
    tg.services.notifiers["console"] = ConsoleNotifier(out)
    script = "/as kim\n/join hiking\n/signup 1\n"
    await ConsoleChat(tg.services, inp=io.StringIO(script), out=out).run()
    await tg.settled()
    assert "You're in!" in out.getvalue()

    assert "2/5 going" in _tg_text(tg.current(tg_card))
    assert "2/5 going" in text_of(dc.current(dc_card))
    roster = "\n".join(_tg_text(m) for m in await tg.say(maya, "/who 1"))
    assert "1. Dan · Discord" in roster and "2. Kim · Console" in roster


async def test_a_posts_likes_and_replies_show_wherever_it_was_posted(both: Both) -> None:
    """#13 item 2: a post announced in a Telegram group chat and a Discord channel is one live
    card. A like on Discord, a like and a reply on Telegram, show on both copies and on the
    author's own; a click in a shared chat draws the card as everyone sees it, not as the
    clicker does; a deleted post's copies say so and lose their buttons."""
    tg, dc = both.tg, both.dc
    maya, dan = await _homed_on_both(both)
    before = len(dc.emu.messages(CHANNEL))
    mine = await tg.say(maya, "/post hiking The ridge trail is dry again")
    [own] = [m for m in mine if "ridge trail" in _tg_text(m)]
    [tg_card] = [m for m in tg.emu.messages(GROUP_CHAT) if "ridge trail" in _tg_text(m)]
    [dc_card] = [m for m in dc.emu.messages(CHANNEL)[before:] if "ridge trail" in text_of(m)]

    def tg_labels(message: dict) -> list[str]:
        return [label for label, _ in tg.emu.buttons(tg.current(message))]

    def dc_labels() -> list[str | None]:
        return [label for label, _ in dc.emu.buttons(dc.current(dc_card))]

    await dc.click(dan, dc_card, "♡")  # Dan, an admin, likes it on Discord
    assert "♡ 1" in tg_labels(tg_card) and "♡ 1" in dc_labels()  # nobody's own heart shown
    assert not any("Pin" in str(label) or "Delete" in str(label) for label in dc_labels())
    assert "♡ 1" in tg_labels(own)  # the author's own copy, in her private chat

    zoe = tg.emu.add_user(9, "Zoe")
    await tg.say(zoe, "/join hiking")
    await tg.click(zoe, tg.current(tg_card), "♡")
    await tg.say(zoe, "/reply 1 Thanks, going Saturday!")
    for labels in (tg_labels(tg_card), dc_labels(), tg_labels(own)):
        assert "♡ 2" in labels and "💬 Replies (1)" in labels
    assert any("Delete" in label for label in tg_labels(own))  # her own view keeps her rights

    await tg.click(maya, tg.current(own), "Delete")
    assert "This post was deleted." in _tg_text(tg.current(tg_card))
    assert "This post was deleted." in text_of(dc.current(dc_card))
    assert tg_labels(tg_card) == [] and dc_labels() == []
