"""A click's spinner stops within a second however deep the backlog (issue #11): a click that
will wait hears "queued" at once, and a backlog being read in holds new handlers back so the
reading, and those answers, come first. Slots directly, then the real aiogram polling loop."""

from __future__ import annotations

import asyncio

from adapters.telegram import middlewares
from adapters.telegram.middlewares import FloodMiddleware, IntakeWatch, Slots
from core.chat import Services
from tests.adapters.test_live_cards import _hiking_with_home, _plain, _queued_result, slowly
from tests.emulators.telegram import TelegramEmulator
from tests.harness import TelegramHarness


async def _holder(slots: Slots, urgent: bool, log: list[str], name: str) -> None:
    async with slots.take(urgent):
        log.append(name)
        await asyncio.sleep(0)


async def test_no_slot_is_handed_out_while_a_backlog_is_read_in() -> None:
    slots = Slots(2)
    log: list[str] = []
    slots.intake(more=True)  # a getUpdates call came back full
    waiting = [
        asyncio.create_task(_holder(slots, False, log, "message")),
        asyncio.create_task(_holder(slots, True, log, "click")),
    ]
    await asyncio.sleep(0.05)
    assert log == []  # both slots free, yet held
    slots.intake(more=False)  # Telegram's queue is read to its end
    await asyncio.gather(*waiting)
    assert sorted(log) == ["click", "message"]


async def test_the_hold_ends_by_itself_and_clicks_go_first(monkeypatch) -> None:
    """A backlog that never ends (a flood that outpaces reading) holds handlers for at most
    INTAKE_HOLD; then the waiting click takes the slot before the message that waited longer."""
    monkeypatch.setattr(middlewares, "INTAKE_HOLD", 0.05)
    slots = Slots(1)
    log: list[str] = []
    slots.intake(more=True)
    message = asyncio.create_task(_holder(slots, False, log, "message"))
    await asyncio.sleep(0)
    click = asyncio.create_task(_holder(slots, True, log, "click"))
    slots.intake(more=True)  # more full calls do not stretch the hold
    async with asyncio.timeout(5):
        await asyncio.gather(message, click)
    assert log == ["click", "message"]
    assert not slots.held


async def test_a_click_behind_its_own_messages_hears_queued_at_once(
    sqlite_db, clock, settings
) -> None:
    """Ann's phone delivers twenty messages and a tap at once. Her order is kept, so the tap
    waits for all twenty, a second on a loaded machine: the deployed middleware tells
    her "queued" right away instead of letting the spinner turn, and the tap's result comes as
    a message after her replies."""
    async with TelegramEmulator() as emu:
        services = Services(db=sqlite_db, clock=clock, settings=settings)
        tg = TelegramHarness(emu, services, flood=FloodMiddleware())  # deployed settings
        tg.dp.message.middleware(slowly)
        await tg.start()
        try:
            card = await _hiking_with_home(tg, capacity=10)
            ann = emu.add_user(10, "Ann")
            await tg.say(ann, "/start")
            _, data = emu.find_button(card, "Sign up")
            since = len(emu.calls)
            updates = [emu.send_message(ann, "/events") for _ in range(20)]
            updates.append(emu.click(ann, card, data))
            await tg.handled(updates)

            calls = [c for c in emu.calls[since:] if c.ok]
            [answer] = [i for i, c in enumerate(calls) if c.method == "answerCallbackQuery"]
            replies = [
                i
                for i, c in enumerate(calls)
                if c.method == "sendMessage" and c.params["chat_id"] in (ann.id, str(ann.id))
            ]
            assert len(replies) == 21  # twenty replies and the tap's result
            assert answer < replies[5]  # the spinner stopped long before her queue was through
            assert "queued" in calls[answer].params["text"]
            assert _queued_result(emu.last_message(ann.id), card) == "You're in!"
            assert "1/10 going" in _plain(tg.current(card))
        finally:
            await tg.stop()


class _Recording(Slots):
    def __init__(self, n: int) -> None:
        super().__init__(n)
        self.calls: list[bool] = []

    def intake(self, more: bool) -> None:
        self.calls.append(more)
        super().intake(more)


async def test_polling_tells_the_slots_when_a_backlog_is_read_in(
    sqlite_db, clock, settings
) -> None:
    """Through aiogram's own polling: the dispatcher's startup puts IntakeWatch on the bot's
    session once; full getUpdates calls hold the slots, the short one at the end lets go, and
    every update of the backlog is answered."""
    async with TelegramEmulator() as emu:
        services = Services(db=sqlite_db, clock=clock, settings=settings)
        flood = FloodMiddleware()
        flood.slots = _Recording(flood.slots.n)
        tg = TelegramHarness(emu, services, flood=flood)
        await tg.start()
        try:
            backlog = 250
            people = [emu.add_user(500 + n, f"Talker{n}") for n in range(backlog)]
            await tg.say(people[0], "/help")  # polling is running: the watch is in place
            watches = [m for m in tg.bot.session.middleware if isinstance(m, IntakeWatch)]
            assert len(watches) == 1
            flood.slots.calls.clear()
            updates = [emu.send_message(person, "/help") for person in people]
            await tg.handled(updates, 120)
            full = backlog // 100
            assert flood.slots.calls[:full] == [True] * full
            assert False in flood.slots.calls[full:]
            assert not flood.slots.held
            answered = {c.params["chat_id"] for c in emu.calls_of("sendMessage")}
            assert all(p.id in answered or str(p.id) in answered for p in people)
        finally:
            await tg.stop()


async def test_a_click_behind_its_persons_waiting_message_hears_queued_at_once(
    sqlite_db, clock, settings
) -> None:
    """Bob's message waits for a handler slot when his tap arrives. Taps that come later go
    before his message (clicks first), so how long his tap will wait has no bound: it hears
    "queued" at once, however quick the recent updates were. (The fallback timer is set far
    out here: only the estimate at arrival can answer it in time.)"""
    release = asyncio.Event()

    async def ann_holds_the_slot(handler, event, data):
        if event.from_user.id == 10 and event.text == "/help":
            await release.wait()
        return await handler(event, data)

    async with TelegramEmulator() as emu:
        services = Services(db=sqlite_db, clock=clock, settings=settings)
        flood = FloodMiddleware(concurrent=1, answer_within=30)
        tg = TelegramHarness(emu, services, flood=flood)
        tg.dp.message.middleware(ann_holds_the_slot)
        await tg.start()
        try:
            card = await _hiking_with_home(tg, capacity=10)
            ann, bob = emu.add_user(10, "Ann"), emu.add_user(11, "Bob")
            await tg.say(bob, "/start")
            _, data = emu.find_button(card, "Sign up")
            since = len(emu.calls)
            updates = [emu.send_message(ann, "/help"), emu.send_message(bob, "/events")]
            updates.append(emu.click(bob, card, data))
            answer = await emu.wait_for("answerCallbackQuery", timeout=5, since=since)
            assert "queued" in answer.params["text"]
            assert not release.is_set()  # Ann's message still holds the only slot
            release.set()
            await tg.handled(updates)
            assert _queued_result(emu.last_message(bob.id), card) == "You're in!"
        finally:
            await tg.stop()
