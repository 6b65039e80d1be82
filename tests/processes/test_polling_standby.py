"""Several processes in long-polling mode: one polls, the others stand by; when the poller is
killed another takes over within seconds and no update is lost (real OS processes, the
Telegram emulator, one database: SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio

from core.db import Database
from tests.emulators.telegram import TelegramEmulator
from tests.processes.fleet import bot_env, kill, start_bot, until


def _replies_to(emu: TelegramEmulator, chat: int) -> int:
    return sum(
        1
        for call in emu.calls_of("sendMessage")
        if call.ok and int(call.params.get("chat_id", 0)) == chat
    )


async def test_a_standby_takes_over_polling_within_seconds(db: Database) -> None:
    async with TelegramEmulator() as emu:
        ann = emu.add_user(7, "Ann")
        poller = await start_bot(bot_env(db.url, emu.base_url))
        bots = [poller]
        try:
            emu.send_message(ann, "/start")
            assert await until(lambda: _replies_to(emu, 7) >= 1, 60), "nobody polled"
            bots.append(await start_bot(bot_env(db.url, emu.base_url)))  # stands by
            emu.send_message(ann, "/help")
            assert await until(lambda: _replies_to(emu, 7) >= 2, 30)
            await asyncio.sleep(3)  # the standby has started and is waiting for the lock
            assert [c for c in emu.calls_of("getUpdates") if c.status == 409] == []

            await kill(poller)
            answered = _replies_to(emu, 7)
            emu.send_message(ann, "/groups")  # sent while nobody polls
            took_over = await until(lambda: _replies_to(emu, 7) > answered, 10)
            assert took_over, "no process took over polling within 10 s"
        finally:
            for bot in bots:
                await kill(bot)
