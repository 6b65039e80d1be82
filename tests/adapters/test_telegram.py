"""The Telegram adapter end to end: the real aiogram Bot and Dispatcher over HTTP against the
local Bot API emulator, with a real SQLite database behind the core."""

from __future__ import annotations

import gc
import re
from datetime import timedelta

from aiogram.methods import Response, SendMessage
from aiogram.types import Message
from icalendar import Calendar
from sqlmodel import func, select

from adapters.telegram.responses import KeepResponseModels
from core.models import Post, ProcessedUpdate
from core.offers import OfferWorker
from tests.harness import TelegramHarness

GROUP_CHAT = -100200300


async def _community(tg: TelegramHarness, capacity: int = 2) -> None:
    """Maya runs a hiking group with one activity."""
    maya = tg.emu.add_user(1, "Maya", "maya")
    await tg.say(maya, "/newgroup Hiking | Weekend hikes | hiking, outdoors")
    await tg.say(
        maya, f"/newevent hiking | Ridge walk | 2026-12-06 07:30 | Trailhead | free | {capacity}"
    )


def _plain(messages: list[dict]) -> str:
    return "\n".join(m["plain"] or "" for m in messages)


async def test_newcomer_joins_opens_an_activity_and_signs_up(tg: TelegramHarness) -> None:
    await _community(tg)
    ana = tg.emu.add_user(2, "Ana", "ana")
    assert "/groups" in _plain(await tg.say(ana, "/start"))
    assert "Welcome to Hiking" in _plain(await tg.say(ana, "/join hiking"))
    [card] = await tg.say(ana, "/event 1")
    assert "Ridge walk" in card["plain"] and "0/2 going" in card["plain"]
    sent = len(tg.emu.messages(ana.id))
    answer = await tg.click(ana, card, "Sign up")
    assert answer["text"] == "You're in!"
    edited = tg.current(card)
    assert "1/2 going" in edited["plain"] and "You're going" in edited["plain"]
    assert len(tg.emu.messages(ana.id)) == sent  # edited in place, not sent again
    again = await tg.click(ana, edited, "Sign up")
    assert again["text"] == "Already signed up."


async def test_full_activity_waitlists_and_a_cancellation_promotes_with_a_message(
    tg: TelegramHarness,
) -> None:
    await _community(tg, capacity=1)
    ana, ben = tg.emu.add_user(2, "Ana"), tg.emu.add_user(3, "Ben")
    [ana_card] = await tg.say(ana, "/event 1")
    await tg.click(ana, ana_card, "Sign up")
    [ben_card] = await tg.say(ben, "/event 1")
    answer = await tg.click(ben, ben_card, "Sign up")
    assert answer["text"] == "It's full: you're #1 on the waitlist."
    assert "1 on the waitlist" in tg.current(ben_card)["plain"]
    before = len(tg.emu.messages(ben.id))
    answer = await tg.click(ana, tg.current(ana_card), "Cancel")
    assert answer["text"] == "Your sign-up is cancelled."
    promoted = tg.emu.messages(ben.id)[before:]
    assert promoted and "a seat opened up" in promoted[0]["plain"]
    assert "Ridge walk" in promoted[0]["plain"]


async def test_roster_news_says_the_time_with_its_zone(tg: TelegramHarness) -> None:
    """Telegram shows no per-reader times: a moved or cancelled activity's message says its
    time in words, with the activity's zone, as its card does."""
    await _community(tg)
    maya, ana = tg.emu.users[1], tg.emu.add_user(2, "Ana")
    [card] = await tg.say(ana, "/event 1")
    await tg.click(ana, card, "Sign up")
    before = len(tg.emu.messages(ana.id))
    await tg.say(maya, "/editevent 1 time 2026-12-05 09:00")
    await tg.say(maya, "/cancelevent 1")
    moved, cancelled = tg.emu.messages(ana.id)[before:]
    when = "🕒 Sat, 5 Dec 2026, 09:00 (UTC)"
    assert moved["plain"].startswith(f"Activity changed: Ridge walk\n{when}")
    assert cancelled["plain"].endswith(when)


async def test_chinese_speakers_get_chinese(tg: TelegramHarness) -> None:
    await _community(tg)
    li = tg.emu.add_user(5, "Li", language_code="zh-hans")
    start = _plain(await tg.say(li, "/start"))
    assert re.search(r"[\u4e00-\u9fff]", start), start
    [card] = await tg.say(li, "/event 1")
    labels = [text for text, _ in tg.emu.buttons(card)]
    assert all(re.search(r"[\u4e00-\u9fff]", label) for label in labels), labels
    commands = tg.emu.commands
    assert any(lang == "zh" for _, lang in commands), commands


async def test_forged_and_stale_callbacks_change_nothing(tg: TelegramHarness) -> None:
    await _community(tg)
    ana = tg.emu.add_user(2, "Ana")
    [card] = await tg.say(ana, "/event 1")

    async def forged(data: str) -> str:
        """A modified client can put anything in callback_data (Telegram passes it on)."""
        answers = len(tg.emu.callback_answers)
        await tg.push(tg.emu.forge_click(ana, card, data))
        return tg.emu.callback_answers[answers]["text"]

    assert await forged("garbage") == "That button no longer works."
    assert await forged("su:999") == "No activity #999. Try /events to see upcoming ones."
    assert await forged("cx:1") == "You are not signed up for this activity."
    assert await forged("ap:1:1") == "Only admins of Hiking can do that."
    await tg.say(1, "/post hiking Trail report")
    assert await forged("pn:1") == "Only admins of Hiking can do that."
    assert await forged("dp:1") == "Only the author or a group admin can delete a post."
    assert "0/2 going" in tg.current(card)["plain"]  # nothing changed


async def test_a_request_another_admin_decided_is_redrawn_where_it_was_tapped(
    tg: TelegramHarness,
) -> None:
    """Tom declined Li; Maya's copy of the request kept its buttons, and her tap only said so.
    Her message is now edited: who decided what, and no buttons."""
    maya, tom, li = (tg.emu.add_user(n, name) for n, name in ((1, "Maya"), (2, "Tom"), (3, "Li")))
    await tg.say(maya, "/newgroup Secret | | | private")
    await tg.say(tom, "/join secret")
    await tg.click(maya, tg.emu.messages(1)[-1], "Approve")
    await tg.say(maya, "/promote secret tom")
    await tg.say(li, "/join secret")
    [mayas] = [m for m in tg.emu.messages(1) if m["plain"] == "Li asks to join Secret."]
    [toms] = [m for m in tg.emu.messages(2) if m["plain"] == "Li asks to join Secret."]

    assert (await tg.click(tom, toms, "Decline"))["text"] == "Declined Li."
    late = await tg.click(maya, mayas, "Approve")
    assert late["text"] == "Li's request was already declined." and late["show_alert"]
    now = tg.current(mayas)
    assert now["plain"] == "Tom declined Li." and not now.get("reply_markup")


async def test_user_text_is_escaped_and_shows_as_written(tg: TelegramHarness) -> None:
    maya = tg.emu.add_user(1, "Maya")
    await tg.say(maya, "/newgroup Hiking")
    messages = await tg.say(maya, "/newevent hiking | <b>&_* | 2026-12-06 07:30 | <i>Hut</i> & co")
    assert all(call.ok for call in tg.emu.calls_of("sendMessage"))
    assert "<b>&_*" in _plain(messages) and "<i>Hut</i> & co" in _plain(messages)


async def test_long_texts_are_split_within_telegram_limits(tg: TelegramHarness) -> None:
    await _community(tg)
    body = "word " * 790
    await tg.say(1, f"/post hiking {body}")
    for _ in range(3):
        await tg.say(1, "/reply 1 " + "reply " * 330)
    messages = await tg.say(1, "/replies 1")
    assert len(messages) >= 2
    assert all(call.ok for call in tg.emu.calls_of("sendMessage")), "a message was refused"
    assert all(len(m["plain"]) <= 4096 for m in messages)
    assert body.strip() in _plain(messages)


async def test_an_update_delivered_twice_is_applied_once(tg: TelegramHarness) -> None:
    await _community(tg)
    update = tg.emu.send_message(1, "/post hiking Same post")
    await tg._handled(update)
    await tg.push(update)  # Telegram re-delivers the same update_id
    async with tg.services.db.uow(readonly=True) as uow:
        count = (await uow.session.exec(select(func.count()).select_from(Post))).one()
    assert count == 1


async def test_an_update_delivered_again_after_a_restart_is_applied_once(
    tg: TelegramHarness,
) -> None:
    """The in-memory window is gone with the process: the database ledger, written in the
    same transaction as the post, refuses the repeat, and nothing is said twice."""
    await _community(tg)
    update = tg.emu.send_message(1, "/post hiking Same post")
    await tg._handled(update)
    await tg.stop()
    restarted = TelegramHarness(tg.emu, tg.services)
    await restarted.start()
    try:
        before = len(tg.emu.messages(1))
        await restarted.push(update)  # Telegram re-delivers it to the new process
        assert len(tg.emu.messages(1)) == before  # no second "Posted." and no second post
    finally:
        await restarted.stop()
    async with tg.services.db.uow(readonly=True) as uow:
        count = (await uow.session.exec(select(func.count()).select_from(Post))).one()
        claims = (await uow.session.exec(select(func.count()).select_from(ProcessedUpdate))).one()
    assert count == 1
    assert claims >= 1


async def test_updates_that_changed_nothing_are_claimed_too(tg: TelegramHarness) -> None:
    """Bob's post, refused because he is not a member yet, changed nothing; it is claimed all
    the same (in the background, with the other such updates of the moment), so Telegram
    delivering it again after he joined does not post it behind his back."""
    await _community(tg)
    bob, cy = tg.emu.add_user(3, "Bob"), tg.emu.add_user(4, "Cy")
    await tg.say(bob, "/start")
    quiet = [tg.emu.send_message(cy, text) for text in ("/help", "/events")]
    refused = tg.emu.send_message(bob, "/post hiking Anyone up for Sunday?")
    await tg.handled([*quiet, refused])
    assert "join" in (tg.emu.last_message(bob.id)["plain"] or "").lower()
    async with tg.services.db.uow(readonly=True) as uow:
        ids = set((await uow.session.exec(select(ProcessedUpdate.update_id))).all())
    assert {u["update_id"] for u in (*quiet, refused)} <= ids

    await tg.say(bob, "/join hiking")
    await tg.stop()
    restarted = TelegramHarness(tg.emu, tg.services)
    await restarted.start()
    try:
        await restarted.push(refused)  # Telegram re-delivers it to the new process
    finally:
        await restarted.stop()
    async with tg.services.db.uow(readonly=True) as uow:
        count = (await uow.session.exec(select(func.count()).select_from(Post))).one()
    assert count == 0


async def test_429s_are_waited_out_and_nothing_is_lost(tg: TelegramHarness) -> None:
    await _community(tg)
    tg.emu.fail_every(3, retry_after=1)
    ana = tg.emu.add_user(2, "Ana")
    replies = []
    for text in ("/start", "/groups", "/events", "/join hiking"):
        replies.append(_plain(await tg.say(ana, text)))
    assert all(replies), replies
    assert tg.emu.throttles, "the emulator never refused anything: the test proves nothing"
    assert not tg.emu.early_retries


async def test_newevent_wizard_step_by_step(tg: TelegramHarness) -> None:
    maya = tg.emu.add_user(1, "Maya")
    await tg.say(maya, "/newgroup Hiking")
    assert "Which group" in _plain(await tg.say(maya, "/newevent"))
    assert "Title" in _plain(await tg.say(maya, "hiking"))
    assert "Date and time" in _plain(await tg.say(maya, "Night walk"))
    assert "Use YYYY-MM-DD HH:MM" in _plain(await tg.say(maya, "tomorrow-ish"))
    assert "already passed" in _plain(await tg.say(maya, "2020-01-01 10:00"))
    assert "Where?" in _plain(await tg.say(maya, "2026-12-06 19:00"))
    update = tg.emu.send_message(maya, location=(52.52, 13.405))
    await tg._handled(update)
    assert "Fee" in _plain(tg.emu.messages(maya.id)[-1:])
    assert "negative" in _plain(await tg.say(maya, "-3"))
    assert "seats" in _plain(await tg.say(maya, "5 EUR"))
    assert "Create it?" in _plain(await tg.say(maya, "8"))
    created = _plain(await tg.say(maya, "✅ Create"))
    assert "Activity #1 created" in created and "5 EUR" in created and "0/8 going" in created
    assert tg.emu.calls_of("sendVenue"), "the shared location is shown as a map"


async def test_the_wizard_reads_a_said_time_and_echoes_it(tg: TelegramHarness) -> None:
    maya = tg.emu.add_user(1, "Maya")
    await tg.say(maya, "/newgroup Hiking")
    await tg.say(maya, "/newevent")
    await tg.say(maya, "hiking")
    await tg.say(maya, "Night walk")
    echoed = _plain(await tg.say(maya, "tomorrow 19:00"))  # the clock: Sat 21 Nov 2026, 12:00
    assert "Understood: Sun, 22 Nov 2026, 19:00 (UTC)." in echoed and "Where?" in echoed
    await tg.say(maya, "Forest gate")
    await tg.say(maya, "free")
    assert "Create it?" in _plain(await tg.say(maya, "8"))
    created = _plain(await tg.say(maya, "✅ Create"))
    assert "Activity #1 created" in created and "Sun, 22 Nov 2026, 19:00" in created


async def test_a_command_sent_in_the_wizard_leaves_it_and_runs(tg: TelegramHarness) -> None:
    """Maya types /events where the wizard asks for a title, and later where it asks "Create
    it?": neither is an answer. Each time the wizard closes, saying so, and /events runs."""
    maya = tg.emu.add_user(1, "Maya")
    await tg.say(maya, "/newgroup Hiking")
    await tg.say(maya, "/newevent")
    await tg.say(maya, "hiking")
    left = _plain(await tg.say(maya, "/events"))
    assert "New activity closed: nothing was created." in left
    assert "No upcoming activities" in left and "Date and time" not in left
    assert "Commands start with /" in _plain(await tg.say(maya, "Night walk"))  # not a title

    await tg.say(maya, "/newevent")
    for answer in ("hiking", "Night walk", "2026-12-06 19:00", "Forest gate", "free"):
        await tg.say(maya, answer)
    assert "Create it?" in _plain(await tg.say(maya, "8"))
    left = _plain(await tg.say(maya, "/events"))
    assert "New activity closed: nothing was created." in left and "Cancelled" not in left
    assert "No upcoming activities" in left
    assert "Commands start with /" in _plain(await tg.say(maya, "✅ Create"))


async def test_the_wizards_summary_shows_what_the_card_will(tg: TelegramHarness) -> None:
    """The summary before "Create it?" says the time, fee and seats as the card does: the
    weekday and date the time was read as, an amount with its currency, and no raw "5"."""
    maya = tg.emu.add_user(1, "Maya")
    await tg.say(maya, "/newgroup Hiking")
    await tg.say(maya, "/newevent")
    for answer in ("hiking", "Night walk", "tomorrow 19:00", "Forest gate", "5"):
        await tg.say(maya, answer)
    summary = _plain(await tg.say(maya, "8"))
    assert "Group: Hiking" in summary
    assert "🕒 Sun, 22 Nov 2026, 19:00 (UTC)" in summary
    assert "💶 5 EUR" in summary and "👥 0/8 going" in summary
    created = _plain(await tg.say(maya, "✅ Create"))
    assert "💶 5 EUR" in created and "👥 0/8 going" in created


async def test_the_wizards_summary_speaks_chinese_to_li(tg: TelegramHarness) -> None:
    """Li taps 免费 and 不限 on the wizard's keyboards: the summary says them as her card
    will, in Chinese, not "free" and "none"; the time has its Chinese weekday and date."""
    li = tg.emu.add_user(3, "Li", language_code="zh-hans")
    await tg.say(li, "/newgroup Hiking")
    await tg.say(li, "/newevent")
    for answer in ("hiking", "夜行", "明天 晚上7点", "山脚", "免费"):
        await tg.say(li, answer)
    summary = _plain(await tg.say(li, "不限"))
    assert "🕒 2026年11月22日 周日 19:00 (UTC)" in summary
    assert "💶 免费" in summary and "👥 0 人参加" in summary
    assert "free" not in summary and "none" not in summary


async def test_a_one_line_newevent_takes_said_times_in_chinese(tg: TelegramHarness) -> None:
    li = tg.emu.add_user(3, "Li", language_code="zh-hans")
    await tg.say(li, "/newgroup Hiking")
    created = _plain(await tg.say(li, "/newevent hiking | 夜行 | 明天 晚上7点 | 山脚"))
    assert "2026年11月22日" in created and "19:00" in created


async def test_add_to_calendar_sends_an_ics_document(tg: TelegramHarness) -> None:
    await _community(tg)
    ana = tg.emu.add_user(2, "Ana")
    [card] = [m for m in await tg.say(ana, "/event 1") if "Sign up" in str(m["reply_markup"])]
    answer = await tg.click(ana, card, "Add to calendar")
    assert answer["text"] is None  # the file is the answer
    [sent] = [m for m in tg.emu.messages(ana.id) if m["document"] is not None]
    assert sent["document"]["file_name"].endswith("-1.ics")
    [entry] = Calendar.from_ical(sent["document"]["content"]).walk("VEVENT")
    assert str(entry["UID"]) == "activity-1@community-bot"


async def test_group_chat_home_announcements_and_start_link(tg: TelegramHarness) -> None:
    maya = tg.emu.add_user(1, "Maya")
    tg.emu.add_group_chat(GROUP_CHAT, "Hikers", admins=[1])
    await tg.say(maya, "/newgroup Hiking")
    zoe = tg.emu.add_user(9, "Zoe", started=False)
    refused = await tg.say(zoe, "/bindgroup hiking", chat_id=GROUP_CHAT)
    assert "Only this chat's admins" in _plain(refused)
    bound = await tg.say(maya, "/bindgroup hiking", chat_id=GROUP_CHAT)
    assert "now the home of Hiking" in _plain(bound)
    before = {m["message_id"] for m in tg.emu.messages(GROUP_CHAT)}
    await tg.say(maya, "/newevent hiking | Ridge | 2026-12-06 07:30 | Trailhead")
    [announced] = [m for m in tg.emu.messages(GROUP_CHAT) if m["message_id"] not in before]
    assert "Ridge" in announced["plain"]
    answer = await tg.click(zoe, announced, "Sign up")
    assert answer["text"] == "You're in!"
    start = tg.emu.messages(GROUP_CHAT)[-1]
    assert "start a private chat" in start["plain"]
    [(_, url)] = tg.emu.buttons(start)
    assert url == "https://t.me/community_test_bot?start=event_1"
    opened = await tg.say(zoe, "/start event_1")
    assert "Ridge" in _plain(opened) and "You're going" in _plain(opened)


async def test_a_seat_for_someone_who_never_started_the_bot_is_said_in_the_group_chat(
    tg: TelegramHarness,
) -> None:
    """Zoe joined the waitlist from the group chat and never started the bot, so Telegram
    refuses to let it message her: her seat is said in the group chat, mentioning her."""
    maya = tg.emu.add_user(1, "Maya")
    tg.emu.add_group_chat(GROUP_CHAT, "Hikers", admins=[1])
    await tg.say(maya, "/newgroup Hiking")
    await tg.say(maya, "/bindgroup hiking", chat_id=GROUP_CHAT)
    await tg.say(maya, "/newevent hiking | Ridge | 2026-12-06 07:30 | Trailhead | free | 1")
    announced = next(m for m in tg.emu.messages(GROUP_CHAT) if "Ridge" in (m["plain"] or ""))
    ann = tg.emu.add_user(8, "Ann")
    await tg.say(ann, "/start")
    await tg.click(ann, announced, "Sign up")
    zoe = tg.emu.add_user(9, "Zoe", started=False)
    assert "waitlist" in (await tg.click(zoe, announced, "Sign up"))["text"]

    await tg.say(ann, "/unsignup 1")
    said = tg.emu.last_message(GROUP_CHAT)
    assert said is not None and said["plain"].startswith("Zoe: Good news: a seat opened up")
    assert "start a chat with me" in said["plain"] and tg.emu.buttons(said) == []
    links = [e.get("url") for e in said["entities"]]
    assert f"tg://user?id={zoe.id}" in links  # a mention: Telegram notifies her
    assert tg.emu.messages(zoe.id) == []


async def test_answer_models_survive_garbage_collection(tg: TelegramHarness) -> None:
    """aiogram's Response[T] models are pydantic generics cached only weakly; the bot keeps the
    ones it uses, so a garbage collection does not make the next answer rebuild them."""
    await tg.say(tg.emu.add_user(2, "Ana", "ana"), "/start")
    gc.collect()
    kept = next(
        m for m in tg.bot.session.middleware._middlewares if isinstance(m, KeepResponseModels)
    )
    assert SendMessage in kept.models
    assert Response[Message] is kept.models[SendMessage]  # pydantic's cache still has it


async def test_a_series_and_check_in_through_telegram(tg: TelegramHarness) -> None:
    """Recurring activities and attendance, tapped as people do (#15 items 2 and 6)."""
    maya = tg.emu.add_user(1, "Maya")
    await tg.say(maya, "/newgroup Hiking")
    await tg.say(maya, "/newevent hiking | Morning walk | 2026-11-22 09:00 | Gate | free | 5")
    repeated = _plain(await tg.say(maya, "/repeat 1 weekly times 6"))
    assert "now repeats every week, 6 times in all" in repeated
    ana = tg.emu.add_user(2, "Ana")
    [card] = [m for m in await tg.say(ana, "/event 2") if "Sign up" in str(m["reply_markup"])]
    answer = await tg.click(ana, card, "Every time")
    assert "signed up for every occurrence" in answer["text"]

    tg.services.clock.advance(timedelta(hours=20, minutes=30))  # 08:30 on the 22nd
    [sheet] = [m for m in await tg.say(maya, "/checkin 1") if "Check-in" in _plain([m])]
    assert "Present: 0 of 1" in _plain([sheet])
    tapped = await tg.click(maya, sheet, "Ana")
    assert tapped["text"] == "Ana: present."
    assert "Present: 1 of 1" in _plain([tg.current(sheet)])
    assert "☑ Ana" in [label for label, _ in tg.emu.buttons(tg.current(sheet))]


async def test_maybe_guests_and_a_timed_offer_through_telegram(tg: TelegramHarness) -> None:
    """RSVP and timed waitlist offers (#15 items 3 and 4), tapped as people do."""
    maya = tg.emu.add_user(1, "Maya")
    await tg.say(maya, "/newgroup Hiking")
    await tg.say(maya, "/newevent hiking | Ridge | 2026-11-28 09:00 | Gate | free | 2")
    await tg.say(maya, "/editevent 1 guests 1")
    await tg.say(maya, "/editevent 1 offers 2h")
    ana, ben, cy = (tg.emu.add_user(n, name) for n, name in ((2, "Ana"), (3, "Ben"), (4, "Cy")))

    [card] = [m for m in await tg.say(ana, "/event 1") if "Sign up" in str(m["reply_markup"])]
    maybe = await tg.click(ana, card, "Maybe")
    assert maybe["text"] == "Marked as maybe: no seat is held for you. Sign up when you know."
    await tg.click(ana, tg.current(card), "Sign up")
    assert (await tg.click(ana, tg.current(card), "Guest"))["text"] == (
        "You're going, with 1 guest."
    )
    await tg.say(ben, "/signup 1")  # full: Ana and her guest hold both seats
    await tg.say(cy, "/maybe 1")
    assert "2/2 going, 1 on the waitlist" in _plain([tg.current(card)])

    await tg.click(ana, tg.current(card), "Cancel")  # a party of two frees two seats
    await OfferWorker(tg.services).run_due()
    await tg.settled()
    offer = tg.emu.messages(3)[-1]  # the offer: his own card, the news on top
    assert "A seat opened up for you" in offer["plain"]
    accepted = await tg.click(ben, offer, "Accept")
    assert accepted["text"] == "The seat is yours. See you there!"
    assert "1/2 going, 1 maybe" in _plain([tg.current(card)])  # Ben; Cy still a maybe
