"""With REDIS_URL, a half-filled /newevent lives in Redis: the process that took the first
answers can die, and another process of the same bot continues the wizard where it stopped."""

from __future__ import annotations

import secrets

from adapters.telegram.app import shared_state
from core.chat import Services
from tests.emulators.telegram import TelegramEmulator
from tests.harness import TelegramHarness
from tests.support import REDIS_URL


def _plain(messages: list[dict]) -> str:
    return "\n".join(m["plain"] or "" for m in messages)


async def test_a_wizard_begun_on_one_process_is_finished_on_another(
    sqlite_db, clock, settings
) -> None:
    services = Services(db=sqlite_db, clock=clock, settings=settings)
    bot_id = f"test{secrets.token_hex(4)}"  # keys of its own in the shared Redis
    async with TelegramEmulator() as emu:
        maya = emu.add_user(1, "Maya")
        first_state = shared_state(REDIS_URL, bot_id)
        first = TelegramHarness(emu, services, shared=first_state)
        await first.start()
        try:
            await first.say(maya, "/newgroup Hiking")
            assert "Which group" in _plain(await first.say(maya, "/newevent"))
            assert "Title" in _plain(await first.say(maya, "hiking"))
            assert "Date and time" in _plain(await first.say(maya, "Night walk"))
        finally:
            await first.stop()  # the process is gone; its memory with it
            await first_state[0].close()

        second_state = shared_state(REDIS_URL, bot_id)
        second = TelegramHarness(emu, services, shared=second_state)
        await second.start()
        try:
            assert "Where?" in _plain(await second.say(maya, "2026-12-06 19:00"))
            assert "Fee" in _plain(await second.say(maya, "Trailhead"))
            assert "seats" in _plain(await second.say(maya, "free"))
            assert "Create it?" in _plain(await second.say(maya, "8"))
            created = _plain(await second.say(maya, "✅ Create"))
            assert "Activity #1 created" in created and "Night walk" in created
        finally:
            await second.stop()
            await second_state[1].close()
            await second_state[0].close()
