"""Telegram webhook mode over real HTTP: the test plays Telegram, POSTing updates to the bot's
web server; the bot answers through the Bot API emulator. A request without the secret is
refused, and a re-delivered update is applied once."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from adapters.telegram.app import build_bot, build_dispatcher
from adapters.telegram.webhook import add_webhook
from adapters.web import build_app
from core.chat import Services
from tests.emulators.telegram import TelegramEmulator
from tests.harness import FAST

URL = "https://bot.example.org/telegram/hook"
SECRET = "s3cret-token"


async def test_webhook_updates_are_checked_and_applied_once(sqlite_db, clock, settings) -> None:
    services = Services(db=sqlite_db, clock=clock, settings=settings)
    async with TelegramEmulator() as emu:
        bot = build_bot("42:TEST", emu.base_url, pacer=FAST)
        app = build_app(services)
        add_webhook(app, build_dispatcher(services), bot, URL, SECRET, services)
        client = TestClient(TestServer(app))
        await client.start_server()
        try:
            maya = emu.add_user(1, "Maya")
            update = emu.send_message(maya, "/newgroup Hiking")  # as Telegram would POST it
            forged = await client.post("/telegram/hook", json=update)
            assert forged.status == 401
            assert [m for m in emu.messages(1) if m["from_id"] != 1] == []  # nothing applied
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            first = await client.post("/telegram/hook", json=update, headers=headers)
            again = await client.post("/telegram/hook", json=update, headers=headers)
            assert (first.status, again.status) == (200, 200)  # Telegram retried: still 200
            await services.settle()
            replies = [m["plain"] for m in emu.messages(1) if m["from_id"] != 1]
            assert sum("Created Hiking" in text for text in replies) == 1  # applied once
        finally:
            await client.close()
            await bot.session.close()
