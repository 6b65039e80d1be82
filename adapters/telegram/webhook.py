"""Telegram in webhook mode: updates arrive as HTTP POSTs on the bot's own web server.

Several processes may serve one port (SO_REUSEPORT) or sit behind a proxy: each update is
handled by whichever process Telegram's request reaches. Telegram gets its 2xx only after the
update was handled and its answer sent (not in the background): if a process dies mid-update,
Telegram gets no 2xx and delivers the update again, and the update-id ledger applies it once.
What is lost with a killed process is at most the answers of the updates it was handling.
Every request must carry TELEGRAM_WEBHOOK_SECRET in `X-Telegram-Bot-Api-Secret-Token`
(aiogram's handler refuses anything else with 401).
"""

from __future__ import annotations

import logging

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from yarl import URL

from core.chat.registry import Services
from core.db import Database
from core.leader import Leadership

log = logging.getLogger(__name__)


# How long an update's answer may hold Telegram's request (it waits about a minute, and
# counts a slower webhook as failed).
ANSWER_WITHIN = 40.0


class AnsweringHandler(SimpleRequestHandler):
    """aiogram's webhook handler, answering Telegram's request only once the update's answer
    and follow-ups went out (Services.awaiting). The wait is outside the person's lock (the
    dispatcher takes and releases it while handling), so their next update need not wait."""

    def __init__(self, services: Services, **kwargs) -> None:
        super().__init__(**kwargs)
        self.services = services

    async def handle(self, request: web.Request) -> web.Response:
        async with self.services.awaiting(ANSWER_WITHIN):
            return await super().handle(request)


def add_webhook(
    app: web.Application, dp: Dispatcher, bot: Bot, url: str, secret: str, services: Services
) -> None:
    """Serve the webhook on `url`'s path of this process's web server."""
    handler = AnsweringHandler(
        services, dispatcher=dp, bot=bot, secret_token=secret, handle_in_background=False
    )
    handler.register(app, path=URL(url).path or "/")


async def set_webhook(bot: Bot, url: str, secret: str) -> bool:
    """Point Telegram at `url`, unless it already is; True when it was changed."""
    current = await bot.get_webhook_info()
    if current.url == url:
        return False
    await bot.set_webhook(url, secret_token=secret, drop_pending_updates=False)
    log.info("Telegram webhook set to %s", url)
    return True


async def set_webhook_once(db: Database, bot: Bot, url: str, secret: str) -> None:
    """At start-up of several processes: only the one that gets the lock calls setWebhook
    (every replica calling it draws 429s); the others go on serving at once."""
    leadership = Leadership(db, "telegram-set-webhook")
    if not await leadership.try_acquire():
        return
    try:
        await set_webhook(bot, url, secret)
    finally:
        await leadership.release()
