"""Taps on cards in a Telegram group chat, and what each person then sees in which chat: the
group chat shows the shared cards only; what a tap answers one person (an error, a file, a
confirmation, a personal view) is theirs alone (a toast, or their private chat with the bot).
The real aiogram Bot and Dispatcher against the local Bot API emulator."""

from __future__ import annotations

from core.models import Identity
from core.services import people
from tests.harness import TelegramHarness

GROUP_CHAT = -100200300


def _plain(messages: list[dict]) -> str:
    return "\n".join(m["plain"] or "" for m in messages)


async def _hiking_home(tg: TelegramHarness, capacity: int = 5) -> dict:
    """Maya's Hiking group, bound to the group chat, with Ridge announced there."""
    maya = tg.emu.add_user(1, "Maya")
    tg.emu.add_group_chat(GROUP_CHAT, "Hikers", admins=[1])
    await tg.say(maya, "/newgroup Hiking")
    await tg.say(maya, "/bindgroup hiking", chat_id=GROUP_CHAT)
    await tg.say(maya, f"/newevent hiking | Ridge | 2026-12-06 07:30 | Gate | free | {capacity}")
    return next(m for m in tg.emu.messages(GROUP_CHAT) if "Ridge" in (m["plain"] or ""))


async def _identity(tg: TelegramHarness, user_id: int) -> Identity | None:
    async with tg.services.db.uow(readonly=True) as uow:
        return await people.find_identity(uow, "telegram", str(user_id))


async def test_a_first_tap_in_a_group_chat_offers_the_start_link(tg: TelegramHarness) -> None:
    """Zoe never wrote to the bot; her first contact is Sign up on the group chat's card. The
    bot cannot know she may be written to, so she is offered the start link, as someone who
    first typed in the group chat is."""
    announced = await _hiking_home(tg)
    zoe = tg.emu.add_user(9, "Zoe", started=False)
    answer = await tg.click(zoe, announced, "Sign up")
    assert answer["text"] == "You're in!"
    identity = await _identity(tg, zoe.id)
    assert identity is not None and not identity.can_message
    offer = tg.emu.messages(GROUP_CHAT)[-1]
    assert "Zoe, start a private chat with me" in offer["plain"]
    [(_, url)] = tg.emu.buttons(offer)
    assert url.endswith("?start=event_1")

    await tg.say(zoe, "/start event_1")  # she starts the bot: now it may write to her
    identity = await _identity(tg, zoe.id)
    assert identity is not None and identity.can_message


async def test_a_post_written_in_the_group_chat_shows_there_once(tg: TelegramHarness) -> None:
    """Ben's /post in the group chat: the chat shows a short confirmation and the post once, as
    everyone there sees it (as /newevent does), not the announcement and then his own copy."""
    await _hiking_home(tg)
    ben = tg.emu.add_user(3, "Ben")
    await tg.say(ben, "/join hiking")
    before = {m["message_id"] for m in tg.emu.messages(GROUP_CHAT)}
    await tg.say(ben, "/post hiking Hello from the group chat", chat_id=GROUP_CHAT)
    new = [m for m in tg.emu.messages(GROUP_CHAT) if m["message_id"] not in before]
    assert [m["plain"].splitlines()[-1] for m in new] == ["Posted.", "Hello from the group chat"]
    labels = [label for label, _ in tg.emu.buttons(new[-1])]
    assert "⚠️ Report" in labels and not any("Delete" in label for label in labels)

    ana = tg.emu.add_user(2, "Ana")
    await tg.say(ana, "/join hiking")
    await tg.click(ana, new[-1], "♡")  # the copy is live: everyone's like shows on it
    assert tg.emu.buttons(tg.current(new[-1]))[0][0] == "♡ 1"

