"""Live activity cards through the real aiogram Bot and discord.py client: a crowd on one card
under Telegram's rate limits, every copy of a card kept true, cancelled copies closed."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import func, select

from adapters.telegram.middlewares import FloodMiddleware
from adapters.telegram.pacing import Pacer
from core import livecards
from core.chat import Services
from core.models import CardCopy, Event, Registration
from core.offers import OfferWorker
from tests.adapters.test_discord import new_event
from tests.discord_harness import CHANNEL, DiscordHarness, text_of
from tests.emulators.telegram import TelegramEmulator
from tests.harness import TelegramHarness

GROUP_CHAT = -100200300
ORGANISER = 1


def _plain(message: dict) -> str:
    return message["plain"] or ""


async def _hiking_with_home(tg: TelegramHarness, capacity: int) -> dict:
    """Maya's group, homed in a Telegram group chat, with one activity; returns the card
    announced in the group chat."""
    maya = tg.emu.add_user(ORGANISER, "Maya")
    tg.emu.add_group_chat(GROUP_CHAT, "Hikers", admins=[ORGANISER])
    await tg.say(maya, "/newgroup Hiking")
    await tg.say(maya, "/bindgroup hiking", chat_id=GROUP_CHAT)
    before = {m["message_id"] for m in tg.emu.messages(GROUP_CHAT)}
    await tg.say(
        maya, f"/newevent hiking | Ridge walk | 2026-12-06 07:30 | Trailhead | free | {capacity}"
    )
    [card] = [m for m in tg.emu.messages(GROUP_CHAT) if m["message_id"] not in before]
    return card


async def slowly(handler, event, data):
    """A loaded machine: each message takes 50 ms to handle (on an idle one, a few /events
    take a few ms in all, and a tap behind them hears its own result at once)."""
    await asyncio.sleep(0.05)
    return await handler(event, data)


def _edits_of(emu: TelegramEmulator, message: dict) -> list[float]:
    return [
        call.time
        for call in emu.calls_of("editMessageText")
        if call.ok
        and str(call.params.get("chat_id")) == str(message["chat_id"])
        and call.params.get("message_id") == message["message_id"]
    ]


async def test_a_crowd_of_60_on_a_10_seat_card_in_a_group_chat(sqlite_db, clock, settings) -> None:
    async with TelegramEmulator() as emu:
        services = Services(db=sqlite_db, clock=clock, settings=settings)
        tg = TelegramHarness(emu, services, pacer=Pacer())  # the pacer as deployed
        await tg.start()
        try:
            card = await _hiking_with_home(tg, capacity=10)
            people = [emu.add_user(100 + n, f"Hiker{n}") for n in range(60)]
            for person in people:  # they have all started the bot, so no start-link offers
                await tg.say(person, "/start")
            answers = await _crowd_clicks(tg, card, "Sign up", people)
            assert sum(a["text"] == "You're in!" for a in answers) == 10
            assert sum("waitlist" in (a["text"] or "") for a in answers) == 50
            async with services.db.uow(readonly=True) as uow:
                confirmed = (
                    await uow.session.exec(
                        select(func.count()).where(Registration.status == "confirmed")
                    )
                ).one()
            assert confirmed == 10
            assert "10/10 going, 50 on the waitlist" in _plain(tg.current(card))
            _assert_paced_edits(emu, card)
        finally:
            await tg.stop()


async def _crowd_clicks(tg: TelegramHarness, card: dict, label: str, people: list) -> list[dict]:
    """Everyone presses the button in one getUpdates batch, the emulator refusing what Telegram
    would; returns what each person was told, each answer checked to come within 2 s of its
    click: the toast, or, when the tap was answered "queued" (a slow machine can make the crowd
    wait past FloodMiddleware's prompt), the message that brought its result."""
    emu = tg.emu
    emu.limit_like_telegram()
    _, data = emu.find_button(card, label)
    updates = [emu.click(person, card, data) for person in people]  # one batch
    await tg.handled(updates)
    ids = {person.id for person in people}
    answers = [a for a in emu.callback_answers if a["user_id"] in ids]
    assert len(answers) == len(people)  # every spinner stopped, none "query is too old"
    assert max(a["waited"] for a in answers) <= 2.0  # each within 2 s of its click
    return [
        {**a, "text": _queued_result(emu.last_message(a["user_id"]), card)}
        if "queued" in (a["text"] or "")
        else a
        for a in answers
    ]


def _queued_result(message: dict, card: dict) -> str:
    """The result of a tap answered "queued": the message it came in is headed by the first
    line of the card tapped (its title), so the person knows which card it is about."""
    heading, _, result = _plain(message).partition("\n")
    assert heading == _plain(card).partition("\n")[0]
    return result


def _assert_paced_edits(emu: TelegramEmulator, card: dict) -> None:
    edits = _edits_of(emu, card)
    assert 1 <= len(edits) <= 20  # coalesced: a handful of edits, not one per click
    assert all(
        sum(1 for t in edits if start <= t < start + 60) <= 20 for start in edits
    )  # within 20 a minute in one group chat
    assert emu.throttles == []  # nothing refused: the pacer kept within the limits


async def test_a_crowd_of_60_likes_on_a_post_in_a_group_chat(sqlite_db, clock, settings) -> None:
    """The live post card under a crowd: 60 likes in one batch on the post announced in the
    group chat are all answered in time and counted once, in a few paced edits."""
    async with TelegramEmulator() as emu:
        services = Services(db=sqlite_db, clock=clock, settings=settings)
        tg = TelegramHarness(emu, services, pacer=Pacer())
        await tg.start()
        try:
            await _hiking_with_home(tg, capacity=10)
            before = {m["message_id"] for m in emu.messages(GROUP_CHAT)}
            await tg.say(ORGANISER, "/post hiking The ridge trail is dry again")
            [card] = [m for m in emu.messages(GROUP_CHAT) if m["message_id"] not in before]
            people = [emu.add_user(100 + n, f"Hiker{n}") for n in range(60)]
            for person in people:
                await tg.say(person, "/join hiking")
            answers = await _crowd_clicks(tg, card, "♡", people)
            assert all(a["text"] == "Liked." for a in answers)  # once each, none toggled back
            assert ("♡ 60", emu.find_button(card, "♡")[1]) in emu.buttons(tg.current(card))
            _assert_paced_edits(emu, card)
        finally:
            await tg.stop()


async def test_a_sign_up_in_one_chat_redraws_the_copies_in_the_others(tg: TelegramHarness) -> None:
    card = await _hiking_with_home(tg, capacity=10)
    maya_copy = next(m for m in tg.emu.messages(ORGANISER) if "Ridge walk" in _plain(m))
    zoe = tg.emu.add_user(9, "Zoe")
    [zoe_copy] = [m for m in await tg.say(zoe, "/event 1") if "Ridge walk" in _plain(m)]
    ann = tg.emu.add_user(10, "Ann")
    await tg.say(ann, "/signup 1")

    assert "1/10 going" in _plain(tg.current(card))  # the group chat's shared card
    assert "1/10 going" in _plain(tg.current(maya_copy))  # the organiser's private card
    assert "1/10 going" in _plain(tg.current(zoe_copy))  # another person's /event reply
    assert "You're going" not in _plain(tg.current(card))  # shared: nobody's own status

    await tg.click(zoe, tg.current(zoe_copy), "Sign up")
    assert "You're going" in _plain(tg.current(zoe_copy))  # her own card, personal
    assert "2/10 going" in _plain(tg.current(card))
    assert "2/10 going" in _plain(tg.current(maya_copy))


async def test_a_busy_group_chat_does_not_hold_up_the_cards_other_copies(
    sqlite_db, clock, settings
) -> None:
    """The group chat may not take an edit for a while (its 20 a minute spent, or a 429's
    retry_after): Zoe's own copy still follows each sign-up, one after the other, and the
    group's copy catches up once its chat is free again. Before, each redraw waited for the
    group chat's edit, and so did the next change's redraw of every other copy."""
    async with TelegramEmulator() as emu:
        services = Services(db=sqlite_db, clock=clock, settings=settings)
        pacer = Pacer()  # the pacer as deployed
        tg = TelegramHarness(emu, services, pacer=pacer)
        await tg.start()
        try:
            card = await _hiking_with_home(tg, capacity=10)
            zoe, ann, bob = emu.add_user(9, "Zoe"), emu.add_user(10, "Ann"), emu.add_user(11, "Bob")
            [zoe_copy] = [m for m in await tg.say(zoe, "/event 1") if "Ridge walk" in _plain(m)]
            for person in (ann, bob):
                await tg.say(person, "/start")
            await pacer.hold(str(GROUP_CHAT), 60)  # the group chat takes nothing for a minute

            def zoe_sees(going: str):
                def shown(call) -> bool:
                    return (
                        call.method == "editMessageText"
                        and str(call.params.get("chat_id")) == str(zoe.id)
                        and f"{going}/10 going" in str(call.params.get("text"))
                    )

                return shown

            signed = [emu.send_message(ann, "/signup 1")]
            await emu.wait_for(zoe_sees("1"), timeout=10)
            signed.append(emu.send_message(bob, "/signup 1"))
            await emu.wait_for(zoe_sees("2"), timeout=10)  # not behind the group's minute
            assert "0/10 going" in _plain(tg.current(card))  # the group chat is still held

            pacer.holds.clear()  # the group chat is free again
            await tg.handled(signed)
            assert "2/10 going" in _plain(tg.current(card))
            assert "2/10 going" in _plain(tg.current(zoe_copy))
            assert emu.throttles == []
        finally:
            await tg.stop()


async def test_a_clicked_card_never_recorded_is_recorded_and_redrawn(tg: TelegramHarness) -> None:
    """Clicks are recorded together (core.batch): in one batch, a card the bot never recorded
    (sent before copies were kept) joins the live copies, a known one stays as it was."""
    card = await _hiking_with_home(tg, capacity=10)
    zoe, bob = tg.emu.add_user(9, "Zoe"), tg.emu.add_user(11, "Bob")
    [zoe_copy] = [m for m in await tg.say(zoe, "/event 1") if "Ridge walk" in _plain(m)]
    [bob_copy] = [m for m in await tg.say(bob, "/event 1") if "Ridge walk" in _plain(m)]
    async with tg.services.db.uow() as uow:
        unrecorded = CardCopy.chat_id == str(zoe.id)
        await uow.session.exec(sa.delete(CardCopy).where(unrecorded))  # type: ignore[arg-type]
        await uow.commit()

    pressed = [
        tg.emu.click(user, copy, tg.emu.find_button(copy, "Sign up")[1])
        for user, copy in ((zoe, zoe_copy), (bob, bob_copy))
    ]
    await tg.handled(pressed)  # one getUpdates batch: their records are written together
    ann = tg.emu.add_user(10, "Ann")
    await tg.say(ann, "/signup 1")

    async with tg.services.db.uow(readonly=True) as uow:
        chats = (await uow.session.exec(select(CardCopy.chat_id))).all()
    everyone = (GROUP_CHAT, ORGANISER, zoe.id, bob.id, ann.id)
    assert sorted(chats) == sorted(str(c) for c in everyone)
    for copy in (zoe_copy, bob_copy, card):
        assert "3/10 going" in _plain(tg.current(copy))


async def test_the_first_copy_in_a_chat_and_a_tapped_one_stay_true(tg: TelegramHarness) -> None:
    """Only the latest copies in a chat were kept live: after three /event replies in the group
    chat its announcement stayed at "0/10 going" for good, the organiser's card from /newevent
    too after her own /event, and a tap on an older copy counted but left it as it was."""
    card = await _hiking_with_home(tg, capacity=10)
    maya_first = next(m for m in tg.emu.messages(ORGANISER) if "Ridge walk" in _plain(m))
    ann, ben, li = (tg.emu.add_user(10 + n, name) for n, name in enumerate(("Ann", "Ben", "Li")))
    in_group = []
    for person in (ann, ben, li, ann):  # four replies in the group chat: more than are kept
        sent = await tg.say(person, "/event 1", chat_id=GROUP_CHAT)
        in_group += [m for m in sent if "Ridge walk" in _plain(m)]
    await tg.say(ORGANISER, "/event 1")
    await tg.say(ORGANISER, "/event 1")  # her latest card; the one between has scrolled away
    maya_between = [m for m in tg.emu.messages(ORGANISER) if "Ridge walk" in _plain(m)][1]

    await tg.click(ann, card, "Sign up")  # on the announcement, above the replies
    assert "1/10 going" in _plain(tg.current(card))
    assert "1/10 going" in _plain(tg.current(maya_first))
    assert "1/10 going" in _plain(tg.current(in_group[-1]))
    assert "0/10 going" in _plain(tg.current(in_group[0]))  # scrolled away: not edited

    await tg.click(ORGANISER, maya_between, "Sign up")  # a copy scrolled away, tapped
    assert "2/10 going" in _plain(tg.current(maya_between))
    assert "You're going" in _plain(tg.current(maya_between))
    assert "2/10 going" in _plain(tg.current(card))


async def test_a_page_of_posts_follows_a_like_and_a_deletion(tg: TelegramHarness) -> None:
    """A /posts page was not live: a deleted post's text stayed in the group chat, with its
    buttons, and a like did not show on it."""
    await _hiking_with_home(tg, capacity=10)
    ann = tg.emu.add_user(10, "Ann")
    await tg.say(ann, "/join hiking")
    await tg.say(ann, "/post hiking Selling my old boots")
    page = await tg.say(ann, "/posts hiking", chat_id=GROUP_CHAT)
    [copy] = [m for m in page if "Selling my old boots" in _plain(m)]
    await tg.click(ORGANISER, copy, "♡")
    likes = [label for label, _ in tg.emu.buttons(tg.current(copy)) if label[0] in "♡♥"]
    assert [label[2:] for label in likes] == ["1"]
    assert not [label for label, _ in tg.emu.buttons(copy) if "Delete" in label]  # shared
    [mine] = [m for m in await tg.say(ORGANISER, "/posts hiking") if "old boots" in _plain(m)]
    await tg.click(ORGANISER, mine, "Delete")  # from her own chat, as an admin
    shown = tg.current(copy)
    assert "Selling my old boots" not in _plain(shown)
    assert "This post was deleted." in _plain(shown) and not tg.emu.buttons(shown)


async def test_a_card_in_a_group_chat_speaks_the_community_language(tg: TelegramHarness) -> None:
    """A Chinese speaker's /event in an English group chat drew that shared card in Chinese,
    and every redraw kept it so, for everyone in the chat. Her own card stays Chinese."""
    await _hiking_with_home(tg, capacity=10)
    li = tg.emu.add_user(12, "Li", language_code="zh-hans")
    [shared] = [m for m in await tg.say(li, "/event 1", chat_id=GROUP_CHAT) if "#1" in _plain(m)]
    assert "Sign up" in str(tg.emu.buttons(shared)) and "going" in _plain(shared)
    [own] = [m for m in await tg.say(li, "/event 1") if "#1" in _plain(m)]
    assert "报名" in str(tg.emu.buttons(own))
    await tg.click(li, shared, "Sign up")
    assert "1/10 going" in _plain(tg.current(shared))  # redrawn, still in English


async def test_a_home_chat_speaks_the_language_it_was_bound_in(tg: TelegramHarness) -> None:
    """A home chat bound in Chinese had its announcements in Chinese, while an /event there
    and every tap on a card drew English (DEFAULT_LOCALE): one chat, two languages, and the
    announcement itself turned English at its first tap. A chat that is nobody's home still
    speaks the community's language."""
    li = tg.emu.add_user(ORGANISER, "Li", language_code="zh-hans")
    tg.emu.add_group_chat(GROUP_CHAT, "徒步群", admins=[ORGANISER])
    await tg.say(li, "/newgroup Hiking")
    await tg.say(li, "/bindgroup hiking", chat_id=GROUP_CHAT)
    before = {m["message_id"] for m in tg.emu.messages(GROUP_CHAT)}
    await tg.say(li, "/newevent hiking | Ridge walk | 2026-12-06 07:30 | Trailhead | free | 10")
    [announced] = [m for m in tg.emu.messages(GROUP_CHAT) if m["message_id"] not in before]
    assert "报名" in str(tg.emu.buttons(announced))

    ann = tg.emu.add_user(10, "Ann")  # an English app
    [asked] = [m for m in await tg.say(ann, "/event 1", chat_id=GROUP_CHAT) if "#1" in _plain(m)]
    assert "报名" in str(tg.emu.buttons(asked)), _plain(asked)
    await tg.click(ann, announced, "✅ 报名")
    for copy in (announced, asked):
        shown = tg.current(copy)
        assert "1/10" in _plain(shown) and "报名" in str(tg.emu.buttons(shown)), _plain(shown)

    tg.emu.add_group_chat(GROUP_CHAT - 1, "Elsewhere", admins=[ORGANISER])
    [elsewhere] = [
        m for m in await tg.say(li, "/event 1", chat_id=GROUP_CHAT - 1) if "#1" in _plain(m)
    ]
    assert "Sign up" in str(tg.emu.buttons(elsewhere))


async def test_an_offer_that_ran_out_loses_its_accept(tg: TelegramHarness) -> None:
    """The offer's message kept ✅ Accept / ↪️ Pass after the held seat ran out."""
    await _hiking_with_home(tg, capacity=1)
    await tg.say(ORGANISER, "/editevent 1 offers 2h")
    ann, bob = tg.emu.add_user(10, "Ann"), tg.emu.add_user(11, "Bob")
    for person in (ann, bob):
        await tg.say(person, "/signup 1")  # Bob waits
    await tg.say(ann, "/unsignup 1")
    workers = OfferWorker(tg.services)
    assert await workers.run_due() == 1  # Bob is offered the seat
    await tg.settled()
    offer = tg.emu.messages(bob.id)[-1]  # his own card, the seat's news on top
    assert "A seat opened up for you: Ridge walk" in _plain(offer)
    assert "held for you until" in _plain(offer) and "Accept" in str(tg.emu.buttons(offer))
    tg.services.clock.advance(timedelta(hours=3))
    assert await workers.run_due() == 1  # ran out
    await tg.settled()
    shown = tg.current(offer)
    assert "Accept" not in str(tg.emu.buttons(shown)) and "Sign up" in str(tg.emu.buttons(shown))
    assert "A seat opened up" not in _plain(shown)


async def test_an_old_copy_still_offering_a_seat_is_redrawn_when_tapped(
    tg: TelegramHarness,
) -> None:
    """A copy that scrolled away from the live ones kept the offer it showed then: after the
    seat ran out its Accept only ever answered "no seat is held for you", and the card stayed
    as it was. A refused tap now redraws the tapped copy as things stand."""
    await _hiking_with_home(tg, capacity=1)
    await tg.say(ORGANISER, "/editevent 1 offers 2h")
    ann, bob = tg.emu.add_user(10, "Ann"), tg.emu.add_user(11, "Bob")
    await tg.say(ann, "/signup 1")
    await tg.say(bob, "/signup 1")  # Bob waits
    for _ in range(2):
        await tg.say(bob, "/event 1")
    await tg.say(ann, "/unsignup 1")
    workers = OfferWorker(tg.services)
    assert await workers.run_due() == 1  # Bob is offered the seat on his cards
    await tg.settled()
    await tg.say(bob, "/event 1")  # a newer copy: the one before it is no longer kept live
    older = [m for m in tg.emu.messages(bob.id) if "Ridge walk" in _plain(m)][-2]
    assert "Accept" in str(tg.emu.buttons(tg.current(older)))
    tg.services.clock.advance(timedelta(hours=3))
    assert await workers.run_due() == 1  # ran out
    await tg.settled()
    assert "Accept" in str(tg.emu.buttons(tg.current(older)))  # not redrawn: scrolled away

    answer = await tg.click(bob, tg.current(older), "✅ Accept")
    assert answer["show_alert"] and "no seat offered to you" in answer["text"], answer
    await tg.settled()
    shown = tg.current(older)
    assert "Accept" not in str(tg.emu.buttons(shown)) and "Sign up" in str(tg.emu.buttons(shown))


async def test_a_cancelled_activity_closes_every_copy(tg: TelegramHarness) -> None:
    card = await _hiking_with_home(tg, capacity=10)
    zoe = tg.emu.add_user(9, "Zoe")
    [zoe_copy] = [m for m in await tg.say(zoe, "/event 1") if "Ridge walk" in _plain(m)]
    await tg.say(tg.emu.add_user(10, "Ann"), "/signup 1")
    await tg.say(ORGANISER, "/cancelevent 1")

    for copy in (card, zoe_copy):
        shown = tg.current(copy)
        assert "[Cancelled]" in _plain(shown)
        assert not [label for label, _ in tg.emu.buttons(shown) if "Sign up" in label]


async def test_every_copy_loses_sign_up_at_the_sign_up_deadline(tg: TelegramHarness) -> None:
    """After its sign-up deadline an activity's cards still offered ✅ Sign up, and each tap
    said "Sign-up for this activity has closed.": from the deadline every copy says sign-up
    closed and offers no Sign up (Cancel and Who's going stay)."""
    card = await _hiking_with_home(tg, capacity=10)
    await tg.say(ORGANISER, "/editevent 1 deadline 2026-12-05 18:00")
    zoe = tg.emu.add_user(9, "Zoe")
    [zoe_copy] = [m for m in await tg.say(zoe, "/event 1") if "Ridge walk" in _plain(m)]
    async with tg.services.db.uow(readonly=True) as uow:
        deadline = (await uow.session.get(Event, 1)).signup_deadline  # type: ignore[union-attr]
    assert deadline is not None
    tg.services.clock.set(deadline - timedelta(minutes=5))
    await tg.settled()
    assert "Sign-up closes: " in _plain(tg.current(card))

    tg.services.clock.set(deadline + timedelta(seconds=1))
    await tg.settled()  # the refresher's job, due at the deadline
    for copy in (card, zoe_copy):
        shown = tg.current(copy)
        labels = [label for label, _ in tg.emu.buttons(shown)]
        assert "Sign-up closed: " in _plain(shown) and "✅ Sign up" not in labels, labels
        assert "❌ Cancel" in labels and "👥 Who's going" in labels


async def test_every_copy_closes_its_sign_up_at_the_start(tg: TelegramHarness) -> None:
    """Past activities kept their Sign up buttons, and a tap said "already started"."""
    card = await _hiking_with_home(tg, capacity=10)
    zoe = tg.emu.add_user(9, "Zoe")
    [zoe_copy] = [m for m in await tg.say(zoe, "/event 1") if "Ridge walk" in _plain(m)]
    await tg.click(zoe, zoe_copy, "Sign up")
    async with tg.services.db.uow(readonly=True) as uow:
        starts_at = (await uow.session.get(Event, 1)).starts_at  # type: ignore[union-attr]
    tg.services.clock.set(starts_at - timedelta(minutes=5))
    await tg.settled()
    assert [label for label, _ in tg.emu.buttons(tg.current(card)) if "Sign up" in label]

    tg.services.clock.set(starts_at + timedelta(seconds=1))
    await tg.settled()  # the refresher's job, due at the start
    for copy in (card, zoe_copy):
        shown = tg.current(copy)
        assert "It has started: sign-up is closed." in _plain(shown)
        assert [label for label, _ in tg.emu.buttons(shown)] == ["👥 Who's going"]
    assert "You're going" in _plain(tg.current(zoe_copy))
    assert "1/10 going" in _plain(tg.current(card))


async def test_a_deleted_copy_is_forgotten(tg: TelegramHarness) -> None:
    card = await _hiking_with_home(tg, capacity=10)
    tg.emu._history[GROUP_CHAT].pop(card["message_id"])  # an admin deleted the card
    await tg.say(tg.emu.add_user(10, "Ann"), "/signup 1")
    async with tg.services.db.uow(readonly=True) as uow:
        chats = (await uow.session.exec(select(CardCopy.chat_id))).all()
    assert str(GROUP_CHAT) not in chats  # Telegram said it is gone: no more edits tried
    assert str(ORGANISER) in chats


async def test_discord_a_click_updates_the_message_and_the_other_copies(
    dc: DiscordHarness,
) -> None:
    maya = dc.add_user(1, "Maya", manager=True)
    await dc.slash(maya, "newgroup", name="Hiking")
    await new_event(dc, maya, seats=10)
    zoe, ann = dc.add_user(9, "Zoe"), dc.add_user(10, "Ann")
    copy = (await dc.slash(zoe, "event", activity=1)).message
    other = (await dc.slash(ann, "event", activity=1)).message
    await dc.click(ann, other, "Sign up")
    assert "1/10 going" in text_of(dc.current(other))  # the interaction's own update
    assert "1/10 going" in text_of(dc.current(copy))  # another copy, by the refresher
    await dc.slash(maya, "cancelevent", activity=1)
    assert "[Cancelled]" in text_of(dc.current(copy))


async def test_discord_a_new_activity_in_its_home_channel_is_posted_once(
    dc: DiscordHarness,
) -> None:
    maya = dc.add_user(1, "Maya", manager=True)
    await dc.slash(maya, "newgroup", name="Hiking")
    await dc.slash(maya, "bindgroup", group="hiking")
    await new_event(dc, maya, "Ridge walk", seats=10)
    public = [
        m for m in dc.emu.messages(CHANNEL) if "Ridge walk" in text_of(m) and not m.get("flags")
    ]
    assert len(public) == 1  # the answer is the announcement there: not a second copy


async def test_clicks_queued_behind_a_backlog_are_served_first(sqlite_db, clock, settings) -> None:
    """A backlog (a restart after downtime, a busy hour): 150 commands, then 20 clicks. The
    clicks' spinners time out after 15 s while a reply may come later, so the clicks take the
    next free handler slots, ahead of the commands still waiting."""
    async with TelegramEmulator() as emu:
        services = Services(db=sqlite_db, clock=clock, settings=settings)
        tg = TelegramHarness(emu, services, flood=FloodMiddleware())  # the deployed middleware
        await tg.start()
        try:
            card = await _hiking_with_home(tg, capacity=50)
            talkers = [emu.add_user(2000 + n, f"Talker{n}") for n in range(150)]
            clickers = [emu.add_user(100 + n, f"Hiker{n}") for n in range(20)]
            for person in clickers:
                await tg.say(person, "/start")
            _, data = emu.find_button(card, "Sign up")
            since = len(emu.calls)
            updates = [emu.send_message(person, "/help") for person in talkers]
            updates += [emu.click(person, card, data) for person in clickers]
            await tg.handled(updates, 120)

            calls = [c for c in emu.calls[since:] if c.ok]
            answers = [i for i, c in enumerate(calls) if c.method == "answerCallbackQuery"]
            helps = [
                i
                for i, c in enumerate(calls)
                if c.method == "sendMessage" and int(c.params["chat_id"]) >= 2000
            ]
            assert len(answers) == 20 and len(helps) == 150  # everybody answered
            assert max(answers) < helps[100]  # every click before the last 50 commands
        finally:
            await tg.stop()


async def test_a_click_whose_handling_turns_slow_hears_queued_then_gets_its_result(
    sqlite_db, clock, settings
) -> None:
    """Nothing is ahead of Ann's tap, so it is expected to be quick, but its handling stalls (a
    locked database, a loaded machine): with the deployed middleware the spinner is stopped
    with "queued" while the handler still runs, and the tap's result, which would have been
    the toast, arrives as a message headed by the card's title. The tap itself counts."""
    stalled, go_on = asyncio.Event(), asyncio.Event()

    async def stalling(handler, event, data):
        stalled.set()
        await go_on.wait()
        return await handler(event, data)

    async with TelegramEmulator() as emu:
        services = Services(db=sqlite_db, clock=clock, settings=settings)
        tg = TelegramHarness(emu, services, flood=FloodMiddleware())  # the deployed settings
        await tg.start()
        try:
            card = await _hiking_with_home(tg, capacity=10)
            ann = emu.add_user(10, "Ann")
            await tg.say(ann, "/start")
            _, data = emu.find_button(card, "Sign up")
            tg.dp.callback_query.middleware(stalling)
            since = len(emu.calls)
            update = emu.click(ann, card, data)
            async with asyncio.timeout(5):
                await stalled.wait()
            # the deployed window is under a second: well inside five
            answer = await emu.wait_for("answerCallbackQuery", timeout=5, since=since)
            assert "queued" in answer.params["text"]
            assert "1/10" not in _plain(tg.current(card))  # the tap is still being handled
            go_on.set()
            await tg.handled([update])

            assert _queued_result(emu.last_message(ann.id), card) == "You're in!"
            assert "1/10 going" in _plain(tg.current(card))
            assert len([a for a in emu.callback_answers if a["user_id"] == ann.id]) == 1
        finally:
            await tg.stop()


async def test_a_card_with_many_copies_is_redrawn_less_often_in_a_stream_of_changes(
    sqlite_db, clock, settings, monkeypatch
) -> None:
    """Twelve people hold the card in their own chats and sign-ups keep coming for two
    seconds. A redraw edits every copy at the platforms' overall rate (here 2 a second, so
    about 6 s), and the next begins when it is done, however short the usual pause between
    redraws: each copy is edited a couple of times, not once per sign-up, and ends exact."""
    monkeypatch.setattr(livecards, "COALESCE", 0.05)
    monkeypatch.setattr(livecards, "EDITS_PER_SECOND", 2.0)
    async with TelegramEmulator() as emu:
        services = Services(db=sqlite_db, clock=clock, settings=settings)
        tg = TelegramHarness(emu, services)
        await tg.start()
        try:
            card = await _hiking_with_home(tg, capacity=50)
            _, data = emu.find_button(card, "Sign up")
            readers = [emu.add_user(300 + n, f"Reader{n}") for n in range(12)]
            copies = {}
            for person in readers:
                await tg.say(person, "/start")
                [copies[person.id]] = await tg.say(person, f"/event {data[3:]}")
            since = len(emu.calls)
            updates = []
            for person in readers[:10]:  # a sign-up every 0.2 s, each on the signer's own copy
                updates.append(emu.click(person, copies[person.id], data))
                await asyncio.sleep(0.2)
            await tg.handled(updates)

            for person in readers:
                copy = copies[person.id]
                edits = [t for t in _edits_of(emu, copy) if t >= emu.calls[since].time]
                assert 1 <= len(edits) <= 3  # one per sign-up would be ten
                assert "10/50 going" in _plain(tg.current(copy))
        finally:
            await tg.stop()


async def test_redraws_of_several_cards_share_the_overall_rate(
    sqlite_db, clock, settings, monkeypatch
) -> None:
    """Two activities, each held by six people in their own chats, change at once: their
    twelve redraw edits take turns at the overall rate (here 5 a second), never more in any
    second, and every copy ends exact."""
    monkeypatch.setattr(livecards, "EDITS_PER_SECOND", 5.0)
    async with TelegramEmulator() as emu:
        services = Services(db=sqlite_db, clock=clock, settings=settings)
        tg = TelegramHarness(emu, services)
        await tg.start()
        try:
            first = await _hiking_with_home(tg, capacity=50)
            maya = emu.users[ORGANISER]
            await tg.say(maya, "/newevent hiking | Lake loop | 2026-12-06 09:30 | Pier | free | 50")
            ids = [emu.find_button(first, "Sign up")[1][3:], "2"]
            readers = [emu.add_user(400 + n, f"Reader{n}") for n in range(6)]
            copies = []
            for person in readers:
                await tg.say(person, "/start")
                for event_id in ids:
                    copies += await tg.say(person, f"/event {event_id}")
            since = emu.calls[-1].time
            await tg.handled([emu.click(readers[0], copies[n], f"su:{ids[n]}") for n in range(2)])
            await asyncio.sleep(12 / 5 + 1)  # the twelve edits' turns, and a margin

            edits = sorted(t for copy in copies for t in _edits_of(emu, copy) if t > since)
            assert len(edits) >= 12  # every copy redrawn
            most = max(sum(1 for t in edits if start <= t < start + 1) for start in edits)
            assert most <= 5 + 1  # the overall rate, give or take a turn's rounding
            for copy in copies:
                assert "1/50 going" in _plain(tg.current(copy))
        finally:
            await tg.stop()
