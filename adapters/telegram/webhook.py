"""Telegram in webhook mode: updates arrive as HTTP POSTs on the bot's own web server.

Several processes may serve one port (SO_REUSEPORT) or sit behind a proxy: each update is
handled by whichever process Telegram's request reaches. The answer is sent only after the
update was handled (not in the background): if a process dies mid-update, Telegram gets no
2xx and delivers the update again, and the update-id ledger applies it once. Every request
must carry TELEGRAM_WEBHOOK_SECRET in `X-Telegram-Bot-Api-Secret-Token` (aiogram's handler
refuses anything else with 401).
"""

from __future__ import annotations

import logging

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from yarl import URL

from core.db import Database
from core.leader import Leadership

log = logging.getLogger(__name__)


def add_webhook(app: web.Application, dp: Dispatcher, bot: Bot, url: str, secret: str) -> None:
    """Serve the webhook on `url`'s path of this process's web server."""
    handler = SimpleRequestHandler(
        dispatcher=dp, bot=bot, secret_token=secret, handle_in_background=False
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
