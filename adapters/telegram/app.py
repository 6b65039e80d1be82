"""Building the aiogram Bot and Dispatcher over the core, and running them."""

from __future__ import annotations

import asyncio
import logging

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import BotCommand

from adapters.telegram.middlewares import (
    ActorMiddleware,
    FloodMiddleware,
    OnceMiddleware,
)
from adapters.telegram.pacing import Pacer, PacingMiddleware
from adapters.telegram.responses import KeepResponseModels
from adapters.telegram.routers import routers
from adapters.telegram.shared_pacing import SharedPacer
from core.chat import COMMANDS, Services
from core.i18n import N_, SUPPORTED, Translator
from core.services import inbox

log = logging.getLogger(__name__)
# Updates in memory at once. aiogram's default is unlimited: a burst (a restart after downtime
# brings up to 24 hours of updates) would all be read in. Handlers themselves run at most
# FloodMiddleware's `concurrent` (8) at once, clicks first; this larger bound is how deep into a
# backlog the bot looks for clicks to serve first (a click left unread behind a few thousand
# messages would outlive its 15 s window). A waiting update costs a few KiB.
CONCURRENT_UPDATES = 4096
EXTRA_COMMANDS = {
    "bindgroup": N_("Make this group chat a group's home (chat admins)"),
    "unbindgroup": N_("Stop announcing a group in this chat (chat admins)"),
}


def build_bot(
    token: str, api_base: str | None = None, pacer: Pacer | SharedPacer | None = None
) -> Bot:
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(api_base)) if api_base else AiohttpSession()
    )
    session.middleware(KeepResponseModels())
    session.middleware(PacingMiddleware(pacer or Pacer()))
    return Bot(
        token,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


WIZARD_TTL = 24 * 3600  # seconds a half-filled wizard is kept in Redis
# Seconds a person's lock outlives a process killed while holding it (aiogram's default, 60,
# stalled that person for a minute); far longer than handling an update takes.
LOCK_TTL = 15


def shared_state(redis_url: str, bot_id: str) -> tuple[BaseStorage, BaseEventIsolation]:
    """Wizard state and per-person locks in Redis, for several processes of one bot: a
    half-filled /newevent continues on whichever process gets the next message, after a
    restart too, and one person's updates are never handled by two processes at once."""
    from aiogram.fsm.storage.base import DefaultKeyBuilder
    from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

    keys = DefaultKeyBuilder(prefix=f"community:{bot_id}:fsm", with_bot_id=True)
    storage = RedisStorage.from_url(
        redis_url, key_builder=keys, state_ttl=WIZARD_TTL, data_ttl=WIZARD_TTL
    )
    isolation = RedisEventIsolation(
        storage.redis, key_builder=keys, lock_kwargs={"timeout": LOCK_TTL}
    )
    return storage, isolation


def build_dispatcher(
    services: Services,
    observer: BaseMiddleware | None = None,
    flood: FloodMiddleware | None = None,
    shared: tuple[BaseStorage, BaseEventIsolation] | None = None,
) -> Dispatcher:
    """`observer` wraps every update before anything else (tests and metrics use it);
    `shared`: wizard storage and event isolation from `shared_state` (default: this process's
    memory)."""
    flood = flood or FloodMiddleware()
    if shared is None:
        dp = Dispatcher(storage=MemoryStorage())
    else:
        storage, isolation = shared
        dp = Dispatcher(storage=storage, events_isolation=isolation)
    if observer is not None:
        dp.update.outer_middleware(observer)
    dp.update.outer_middleware(flood)  # first: each person's place in line, before any await
    dp.startup.register(flood.watch_intake)
    dp.update.outer_middleware(OnceMiddleware(services))
    for observer in (dp.message, dp.callback_query):
        observer.outer_middleware(ActorMiddleware(services))
    dp.include_routers(*routers())
    return dp


def bot_commands(locale: str) -> list[BotCommand]:
    t = Translator(locale)
    listed = {name: command.help for name, command in COMMANDS.items()} | EXTRA_COMMANDS
    return [BotCommand(command=name, description=t(text)[:256]) for name, text in listed.items()]


async def register_commands(bot: Bot) -> None:
    """The command menu in each language we speak (Telegram picks by the user's language)."""
    await bot.set_my_commands(bot_commands("en"))
    for locale in SUPPORTED:
        await bot.set_my_commands(bot_commands(locale), language_code=locale)


async def run_telegram(services: Services, bot: Bot, dp: Dispatcher | None = None) -> None:
    """Long polling until cancelled; one poller per token (docs/telegram.md). The caller
    registers the TelegramNotifier, so reminders can go out before polling starts."""
    dp = dp or build_dispatcher(services)
    me = await bot.get_me()
    await register_commands(bot)
    log.info("Telegram: polling as @%s", me.username)
    housekeeping = asyncio.create_task(_forget_old_updates(services))
    try:
        await dp.start_polling(
            bot, handle_signals=False, tasks_concurrency_limit=CONCURRENT_UPDATES
        )
    finally:
        housekeeping.cancel()
        await bot.session.close()


async def _forget_old_updates(services: Services) -> None:
    """Telegram re-delivers for 24 hours at most; older update ids need not be remembered."""
    while True:
        async with services.db.uow() as uow:
            await inbox.forget_old(uow, services.clock)
        await asyncio.sleep(6 * 3600)
