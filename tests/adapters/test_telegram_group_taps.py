"""Taps on cards in a Telegram group chat, and what each person then sees in which chat: the
group chat shows the shared cards only; what a tap answers one person (an error, a file, a
confirmation, a personal view) is theirs alone (a toast, or their private chat with the bot).
The real aiogram Bot and Dispatcher against the local Bot API emulator."""

from __future__ import annotations

from datetime import timedelta

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


def _said_in(tg: TelegramHarness, chat: int, since: set[int]) -> list[dict]:
    return [m for m in tg.emu.messages(chat) if m["message_id"] not in since]


def _ids(tg: TelegramHarness, *chats: int) -> dict[int, set[int]]:
    return {chat: {m["message_id"] for m in tg.emu.messages(chat)} for chat in chats}


async def test_an_error_from_a_group_chat_tap_is_the_tappers_alone(tg: TelegramHarness) -> None:
    """Ben taps Cancel without being signed up: he sees the error as a pop-up, once, and
    nobody else sees it."""
    announced = await _hiking_home(tg)
    ben = tg.emu.add_user(3, "Ben")
    await tg.say(ben, "/join hiking")
    before = _ids(tg, GROUP_CHAT, ben.id)
    answer = await tg.click(ben, announced, "Cancel")
    assert answer["text"] == "You are not signed up for this activity."
    assert answer["show_alert"]
    assert _said_in(tg, GROUP_CHAT, before[GROUP_CHAT]) == []
    assert _said_in(tg, ben.id, before[ben.id]) == []  # once: the pop-up holds it whole


async def test_a_report_from_the_group_chat_is_not_said_there(tg: TelegramHarness) -> None:
    """Reporting a post from the group chat: the reporter hears "thank you" in a toast; the
    chat sees nothing (reporting is nobody else's business), the admins hear of it. /reports
    typed there listed everyone's reports for the whole chat: it is refused there."""
    await _hiking_home(tg)
    ana, ben = tg.emu.add_user(2, "Ana"), tg.emu.add_user(3, "Ben")
    for person in (ana, ben):
        await tg.say(person, "/join hiking")
    await tg.say(ana, "/post hiking The ridge trail is dry again")
    post = next(m for m in tg.emu.messages(GROUP_CHAT) if "ridge trail" in (m["plain"] or ""))
    before = _ids(tg, GROUP_CHAT, ben.id, 1)
    answer = await tg.click(ben, post, "Report")
    assert answer["text"] == "Reported to the group's admins. Thank you."
    assert _said_in(tg, GROUP_CHAT, before[GROUP_CHAT]) == []
    assert _said_in(tg, ben.id, before[ben.id]) == []
    assert "A post was reported" in _plain(_said_in(tg, 1, before[1]))  # Maya, the admin

    said = _plain(await tg.say(1, "/reports", chat_id=GROUP_CHAT))  # Maya, in the group chat
    assert "Send me /reports in a private chat" in said and "Ben" not in said
    assert "Ben reported Ana" in _plain(await tg.say(1, "/reports"))  # in her private chat


async def test_what_a_group_chat_tap_shows_goes_to_the_tappers_private_chat(
    tg: TelegramHarness,
) -> None:
    """Ben (who started the bot) taps Who's going, Add to calendar and a post's Replies in the
    group chat: each answer comes to his private chat, the toast says so, the group chat
    shows none of it. The Replies view is his own (his like), with no Delete of Ana's post."""
    announced = await _hiking_home(tg)
    ana, ben = tg.emu.add_user(2, "Ana"), tg.emu.add_user(3, "Ben")
    for person in (ana, ben):
        await tg.say(person, "/join hiking")
    await tg.say(ana, "/post hiking The ridge trail is dry again")
    post = next(m for m in tg.emu.messages(GROUP_CHAT) if "ridge trail" in (m["plain"] or ""))
    await tg.click(ben, post, "♡")
    group_before = _ids(tg, GROUP_CHAT)[GROUP_CHAT]

    before = _ids(tg, ben.id)[ben.id]
    answer = await tg.click(ben, announced, "Who")
    assert answer["text"] == "📩 Sent to your private chat with me."
    assert "Who's going: Ridge" in _plain(_said_in(tg, ben.id, before))

    before = _ids(tg, ben.id)[ben.id]
    answer = await tg.click(ben, announced, "Add to calendar")
    assert answer["text"] == "📩 Sent to your private chat with me."
    [sent] = [m for m in _said_in(tg, ben.id, before) if m["document"] is not None]
    assert sent["document"]["file_name"].endswith("-1.ics")

    before = _ids(tg, ben.id)[ben.id]
    await tg.click(ben, tg.current(post), "Replies")
    [replies] = _said_in(tg, ben.id, before)
    labels = [label for label, _ in tg.emu.buttons(replies)]
    assert "♥ 1" in labels and not any("Delete" in label for label in labels)

    assert _said_in(tg, GROUP_CHAT, group_before) == []


async def test_a_group_chat_tap_says_how_to_get_what_only_a_private_chat_can_hold(
    tg: TelegramHarness,
) -> None:
    """Zoe never started the bot: her Who's going and Add to calendar taps in the group chat
    cannot reach her privately, so the pop-up says how to get them; the chat sees nothing."""
    announced = await _hiking_home(tg)
    zoe = tg.emu.add_user(9, "Zoe", started=False)
    before = _ids(tg, GROUP_CHAT)[GROUP_CHAT]
    for label in ("Who", "Add to calendar"):
        answer = await tg.click(zoe, announced, label)
        assert answer["show_alert"]
        assert answer["text"] == (
            "I can only send you this in a private chat: open @community_test_bot, tap Start, "
            "then tap here again."
        )
    assert _said_in(tg, GROUP_CHAT, before) == []
    assert tg.emu.messages(zoe.id) == []

    await tg.say(zoe, "/start")
    before = _ids(tg, zoe.id)[zoe.id]
    answer = await tg.click(zoe, announced, "Who")
    assert answer["text"] == "📩 Sent to your private chat with me."
    assert "Who's going: Ridge" in _plain(_said_in(tg, zoe.id, before))


async def test_a_taps_words_arrive_once_in_a_private_chat(tg: TelegramHarness) -> None:
    """Every time, twice, Cancel, twice: each said by the toast (or pop-up) alone, not again
    as a message; the activity card is redrawn in place."""
    maya = tg.emu.add_user(1, "Maya")
    await tg.say(maya, "/newgroup Hiking")
    await tg.say(maya, "/newevent hiking | Walk | 2026-11-22 09:00 | Gate | free | 2")
    await tg.say(maya, "/repeat 1 weekly times 3")
    ana = tg.emu.add_user(2, "Ana")
    [card] = [m for m in await tg.say(ana, "/event 2") if "Sign up" in str(m["reply_markup"])]
    before = _ids(tg, ana.id)[ana.id]
    first = await tg.click(ana, card, "Every time")
    assert "signed up for every occurrence" in first["text"]
    again = await tg.click(ana, tg.current(card), "Every time")
    assert again["text"] == "You're already signed up for every occurrence of this series."
    assert "You're going" in tg.current(card)["plain"]
    cancelled = await tg.click(ana, tg.current(card), "Cancel")
    assert cancelled["text"] == "Your sign-up is cancelled."
    error = await tg.click(ana, tg.current(card), "Cancel")
    assert error == error | {"text": "You are not signed up for this activity.", "show_alert": True}
    assert _said_in(tg, ana.id, before) == []


async def test_an_activity_opened_from_a_group_chat_list_comes_as_the_tappers_own(
    tg: TelegramHarness,
) -> None:
    """Ben, signed up, opens Ridge from /events in the group chat: the card in his private chat
    was the group's shared view, without "You're going", and stayed so."""
    announced = await _hiking_home(tg)
    ben = tg.emu.add_user(3, "Ben")
    await tg.say(ben, "/join hiking")
    await tg.click(ben, announced, "Sign up")
    [listed] = [
        m for m in await tg.say(ben, "/events", chat_id=GROUP_CHAT) if "Ridge" in m["plain"]
    ]
    before = _ids(tg, ben.id)[ben.id]
    answer = await tg.click(ben, listed, "#1 Ridge")
    assert answer["text"] == "📩 Sent to your private chat with me."
    [card] = _said_in(tg, ben.id, before)
    assert "You're going" in card["plain"]
    await tg.click(ben, card, "Cancel")
    assert "You're going" not in tg.current(card)["plain"]


async def test_someone_who_blocked_the_bot_is_told_to_start_it_next_time(
    tg: TelegramHarness,
) -> None:
    """Ben blocked the bot after starting it: "Sent to your private chat" was promised, the
    send was refused, and every later tap promised it again."""
    announced = await _hiking_home(tg)
    ben = tg.emu.add_user(3, "Ben")
    await tg.say(ben, "/join hiking")
    tg.emu.block(ben.id)
    first = await tg.click(ben, announced, "Who")
    assert first["text"] == "📩 Sent to your private chat with me."  # not known yet
    again = await tg.click(ben, announced, "Who")
    assert "I can only send you this in a private chat" in again["text"]


async def test_the_start_link_is_offered_once_a_day_however_often_one_taps(
    tg: TelegramHarness,
) -> None:
    """Kim never started the bot and taps Sign up, Cancel, Sign up again in the group chat: the
    chat is told once to start a private chat, not at every tap; Tom, another such tapper, is
    told too. A day later Kim, still unreachable, is offered it again."""
    announced = await _hiking_home(tg)
    kim, tom = tg.emu.add_user(9, "Kim", started=False), tg.emu.add_user(10, "Tom", started=False)
    before = _ids(tg, GROUP_CHAT)[GROUP_CHAT]
    for label in ("Sign up", "Cancel", "Sign up", "Sign up"):
        await tg.click(kim, tg.current(announced), label)
    await tg.click(tom, tg.current(announced), "Sign up")
    said = [m["plain"] for m in _said_in(tg, GROUP_CHAT, before)]
    assert [text for text in said if "start a private chat" in text] == [
        "Kim, start a private chat with me so I can send you reminders.",
        "Tom, start a private chat with me so I can send you reminders.",
    ]

    tg.services.clock.advance(timedelta(days=1))
    before = _ids(tg, GROUP_CHAT)[GROUP_CHAT]
    await tg.click(kim, tg.current(announced), "Cancel")
    await tg.click(kim, tg.current(announced), "Sign up")
    assert "Kim, start a private chat" in _plain(_said_in(tg, GROUP_CHAT, before))


async def test_post_commands_in_a_group_chat_answer_as_everyone_there_reads(
    tg: TelegramHarness,
) -> None:
    """李伟's /reply in Hiking's English home chat showed "💬 回复（1）" and "⚠️ 举报", his
    /editpost his own "🗑 删除", Maya's /replies her Pin and Delete, his /posts a Chinese
    header over English cards. Now the cards everyone there reads: no one's Pin or Delete, in
    the chat's language."""
    await _hiking_home(tg)
    li = tg.emu.add_user(5, "李伟", language_code="zh-hans")
    await tg.say(li, "/join hiking")
    await tg.say(li, "/post hiking 周六见")

    def labels(messages: list[dict]) -> list[str]:
        return [label for m in messages for label, _ in tg.emu.buttons(m)]

    replied = labels(await tg.say(li, "/reply 1 回复", chat_id=GROUP_CHAT))
    assert "💬 Replies (1)" in replied and "⚠️ Report" in replied
    edited = await tg.say(li, "/editpost 1 周日见", chat_id=GROUP_CHAT)
    assert _plain(edited).startswith("Post edited.")
    assert "⚠️ Report" in labels(edited) and not any("Delete" in x for x in labels(edited))
    shown = labels(await tg.say(1, "/replies 1", chat_id=GROUP_CHAT))
    assert not any("Pin" in label or "Delete" in label for label in shown)
    assert _plain(await tg.say(li, "/posts hiking", chat_id=GROUP_CHAT)).startswith(
        "Posts in Hiking  1/1"
    )


async def test_a_private_groups_posts_are_not_shown_in_another_groups_chat(
    tg: TelegramHarness,
) -> None:
    """Maya's /posts secret and /post secret in Hiking's chat showed Secret's private posts to
    everyone there; now the bot asks for them in a private chat."""
    await _hiking_home(tg)
    maya = tg.emu.users[1]
    await tg.say(maya, "/newgroup Secret | | | private")
    await tg.say(maya, "/post secret Door code is 4711")
    before = _ids(tg, GROUP_CHAT)[GROUP_CHAT]
    for text in ("/posts secret", "/replies 1", "/post secret New code is 1234"):
        answer = _plain(await tg.say(maya, text, chat_id=GROUP_CHAT))
        assert answer == (
            "⚠️ Secret is a private group: send me this in a private chat, "
            "or in the group's own chat."
        )
    said = _plain(_said_in(tg, GROUP_CHAT, before))
    assert "4711" not in said and "1234" not in said
