"""A bot process in webhook mode (a real OS process): it sets the webhook once, serves updates
on its web server as the Telegram emulator POSTs them, and keeps serving (it once fell through
to the console chat, read an empty stdin and exited)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys

from core.db import Database
from tests.emulators.telegram import TelegramEmulator
from tests.processes.test_reminder_crash import ROOT, _until


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_a_webhook_process_serves_updates_and_stays_up(db: Database) -> None:
    port = _free_port()
    async with TelegramEmulator() as emu:
        ann = emu.add_user(7, "Ann")
        env = {
            **{k: v for k, v in os.environ.items() if k != "REDIS_URL"},
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": db.url,
            "TELEGRAM_BOT_TOKEN": "42:TEST",
            "TELEGRAM_API_BASE": emu.base_url,
            "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/hook",
            "TELEGRAM_WEBHOOK_SECRET": "s3cret",
            "WEB_PORT": str(port),
            "SEED_DEMO": "false",
            "LOG_LEVEL": "WARNING",
        }
        bot = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bots", "run", cwd=ROOT, env=env, start_new_session=True
        )
        try:
            assert await _until(lambda: bool(emu.webhook_url), 60), "the webhook was never set"
            emu.send_message(ann, "/start")
            assert await _until(lambda: bool(emu.messages(7)), 30), "no answer by webhook"
            assert "Hi Ann" in (emu.messages(7)[0]["plain"] or "")
            assert [status for _, status in emu.deliveries] == [200]
            await asyncio.sleep(2)
            assert bot.returncode is None, "the process stopped serving"
            assert len(emu.calls_of("setWebhook")) == 1
        finally:
            if bot.returncode is None:
                os.killpg(bot.pid, signal.SIGKILL)
            await bot.wait()
