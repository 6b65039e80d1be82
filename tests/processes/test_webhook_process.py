"""A bot process in webhook mode (a real OS process): it sets the webhook once, serves updates
on its web server as the Telegram emulator POSTs them, and keeps serving (it once fell through
to the console chat, read an empty stdin and exited)."""

from __future__ import annotations

import asyncio

from core.db import Database
from tests.emulators.telegram import TelegramEmulator
from tests.processes.fleet import bot_env, free_port, kill, start_bot, until, webhook_env


async def test_a_webhook_process_serves_updates_and_stays_up(db: Database) -> None:
    port = free_port()
    async with TelegramEmulator() as emu:
        ann = emu.add_user(7, "Ann")
        env = bot_env(db.url, emu.base_url, **webhook_env(port))
        bot = await start_bot(env)
        try:
            assert await until(lambda: bool(emu.webhook_url), 60), "the webhook was never set"
            emu.send_message(ann, "/start")
            assert await until(lambda: bool(emu.messages(7)), 30), "no answer by webhook"
            assert "Hi Ann" in (emu.messages(7)[0]["plain"] or "")
            # the answer goes out while the update is handled, its 200 when that is done
            assert await until(lambda: bool(emu.deliveries), 30), "the delivery never ended"
            assert [status for _, status in emu.deliveries] == [200]
            await asyncio.sleep(2)
            assert bot.returncode is None, "the process stopped serving"
            assert len(emu.calls_of("setWebhook")) == 1
        finally:
            await kill(bot)
