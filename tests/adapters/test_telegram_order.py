"""A person's updates in order, bursts queued not dropped, only real floods refused (issue #11),
through the real aiogram Dispatcher polling the emulator."""

from __future__ import annotations

import asyncio

from adapters.telegram.middlewares import FloodMiddleware
from core.chat import Services
from tests.emulators.telegram import TelegramEmulator
from tests.harness import TelegramHarness


def _texts(tg: TelegramHarness, chat: int) -> list[str]:
    return [m["plain"] or "" for m in tg.emu.messages(chat) if m["from_id"] != chat]


async def test_a_burst_of_twenty_is_handled_in_order_and_stalls_nobody(
    sqlite_db, clock, settings
) -> None:
    async with TelegramEmulator() as emu:
        services = Services(db=sqlite_db, clock=clock, settings=settings)
        tg = TelegramHarness(emu, services, flood=FloodMiddleware())  # the deployed limits
        await tg.start()
        try:
            ana, bob = emu.add_user(2, "Ana"), emu.add_user(3, "Bob")
            # a phone back from a tunnel: 20 messages in one getUpdates batch
            burst = [emu.send_message(ana, f"/newgroup Walkers {n:02}") for n in range(20)]
            bobs = emu.send_message(bob, "/help")  # someone else, right behind the burst
            await tg.handled([*burst, bobs])
            created = [t for t in _texts(tg, 2) if t.startswith("Created")]
            assert created == [
                f"Created Walkers {n:02}. You're its owner. Invite people with "
                f"/join walkers-{n:02}."
                for n in range(20)
            ]  # every one handled, in the order sent
            bob_answered = next(
                c.time for c in emu.calls_of("sendMessage") if c.params["chat_id"] == 3
            )
            last_of_ana = max(
                c.time for c in emu.calls_of("sendMessage") if c.params["chat_id"] == 2
            )
            assert bob_answered < last_of_ana  # Bob did not wait behind Ana's whole burst
            assert not any("Slow down" in t for t in _texts(tg, 2))
        finally:
            await tg.stop()


async def test_a_real_flood_is_refused_with_a_word_each_time_it_starts(
    sqlite_db, clock, settings
) -> None:
    async with TelegramEmulator() as emu:
        services = Services(db=sqlite_db, clock=clock, settings=settings)
        tg = TelegramHarness(emu, services, flood=FloodMiddleware(limit=5, per=0.5))
        await tg.start()
        try:
            ana = emu.add_user(2, "Ana")
            await tg.handled([emu.send_message(ana, "/help") for _ in range(9)])
            texts = _texts(tg, 2)
            assert sum("Slow down" in t for t in texts) == 1  # once for the flood, then quiet
            assert sum("Commands" in t or "/help" in t for t in texts) >= 5  # the first 5 ran
            await asyncio.sleep(0.6)  # the window clears; a new flood gets its own word
            await tg.handled([emu.send_message(ana, "/help") for _ in range(9)])
            assert sum("Slow down" in t for t in _texts(tg, 2)) == 2
        finally:
            await tg.stop()
