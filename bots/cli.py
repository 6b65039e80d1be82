"""`community-bot` (also `python -m bots`): run the bot, or migrate the database."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
from collections.abc import Awaitable

from adapters.console.chat import ConsoleChat, ConsoleNotifier
from core.chat import Services
from core.clock import SystemClock
from core.db import Database, migrate_sync
from core.livecards import CardRefresher
from core.scheduler import ReminderRunner
from core.seed import seed_demo
from core.settings import Settings

log = logging.getLogger("community")


async def build_services(settings: Settings) -> Services:
    """Open the database, bring it up to date, and seed the demo community if asked."""
    db = Database(settings.database_url)
    await db.migrate()
    clock = SystemClock()
    if settings.seed_demo and await seed_demo(db, clock, settings.default_timezone):
        log.info("seeded the demo community")
    return Services(db=db, clock=clock, settings=settings)


def settle_heap() -> None:
    """Move everything alive after start-up (mostly imports: ~200 MiB of aiogram, discord.py,
    pydantic and SQLAlchemy objects) out of the garbage collector's sight. Each full collection
    would otherwise walk all of it (a quarter of a second here) while updates wait; what start-up
    built lives as long as the process anyway."""
    gc.collect()
    gc.freeze()


async def run(settings: Settings) -> None:
    services = await build_services(settings)
    workers = (ReminderRunner(services), CardRefresher(services))
    web = None
    try:
        if settings.web_port:
            from adapters.web import build_app, serve

            web = await serve(build_app(services), settings.web_host, settings.web_port)
        platforms = []
        if settings.telegram_bot_token:
            from adapters.telegram.app import build_bot, run_telegram
            from adapters.telegram.notifier import TelegramNotifier

            pacer = None
            if settings.redis_url:  # several processes of one bot share one send budget
                from adapters.telegram.shared_pacing import SharedPacer

                pacer = SharedPacer(settings.redis_url, settings.telegram_bot_token.split(":")[0])
            bot = build_bot(settings.telegram_bot_token, settings.telegram_api_base, pacer)
            services.notifiers["telegram"] = TelegramNotifier(bot)
            services.health["telegram"] = lambda: _answers(bot.get_me())
            platforms.append(run_telegram(services, bot))
        if settings.discord_bot_token:
            from adapters.discord.bot import CommunityBot, run_discord

            client = CommunityBot(services, guild_ids=settings.discord_guilds)
            services.health["discord"] = lambda: _answers(client.wait_until_ready())
            await client.login(settings.discord_bot_token)  # runs setup_hook: commands, notifier
            platforms.append(run_discord(client))
        if platforms:
            for worker in workers:
                await worker.start()
            settle_heap()
            await asyncio.gather(*platforms)
            return
        chat = ConsoleChat(services)
        services.notifiers["console"] = ConsoleNotifier(chat.out, ansi=chat.ansi)
        for worker in workers:
            await worker.start()
        await chat.run()
    finally:
        for worker in workers:
            await worker.stop()
        await services.settle()
        if web is not None:
            await web.cleanup()
        await services.db.dispose()


async def _answers(call: Awaitable[object]) -> bool:
    """A platform is reachable when this call comes back (the health check's timeout bounds
    it)."""
    await call
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="community-bot", description=__doc__)
    parser.add_argument(
        "command",
        nargs="?",
        default="run",
        choices=("run", "migrate"),
        help="run (default): start every configured platform, or the console; "
        "migrate: apply database migrations and exit",
    )
    options = parser.parse_args(argv)
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Libraries that log every job run or every update at INFO would drown the chat and logs.
    for name in ("aiosqlite", "apscheduler", "aiogram.event"):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.root.level))
    if options.command == "migrate":
        migrate_sync(settings.database_url)
        log.info("database is up to date")
        return
    try:
        asyncio.run(run(settings))
    except KeyboardInterrupt:
        pass
    except BrokenPipeError:  # the reader of our output went away (`... | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
