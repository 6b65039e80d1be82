"""`community-bot` (also `python -m bots`): run the bot, or migrate the database."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from adapters.console.chat import ConsoleChat, ConsoleNotifier
from core.chat import Services
from core.clock import SystemClock
from core.db import Database, migrate_sync
from core.i18n import set_default_locale
from core.leader import Leadership
from core.livecards import CardRefresher
from core.notices import NoticeWorker
from core.offers import OfferWorker
from core.recurring import SeriesWorker
from core.scheduler import ReminderRunner
from core.seed import seed_demo
from core.settings import Settings
from core.work import Worker

log = logging.getLogger("community")


async def build_services(settings: Settings) -> Services:
    """Open the database, bring it up to date, and seed the demo community if asked."""
    set_default_locale(settings.default_locale)
    db = Database(settings.database_url)
    await db.migrate()
    clock = SystemClock()
    if settings.seeds_demo and await seed_demo(db, clock, settings.default_timezone):
        log.info("seeded the demo community")
    return Services(db=db, clock=clock, settings=settings)


def settle_heap() -> None:
    """Move everything alive after start-up (mostly imports: ~200 MiB of aiogram, discord.py,
    pydantic and SQLAlchemy objects) out of the garbage collector's sight. Each full collection
    would otherwise walk all of it (a quarter of a second here) while updates wait; what start-up
    built lives as long as the process anyway."""
    gc.collect()
    gc.freeze()


def durable_workers(services: Services) -> list[Worker]:
    """The workers of durable work every process runs unless it only takes updates."""
    return [
        ReminderRunner(services),
        CardRefresher(services),
        OfferWorker(services),
        NoticeWorker(services),
        SeriesWorker(services),
    ]


async def run(settings: Settings, role: str = "all") -> None:
    """`role`: "all" (the default) runs everything here; "web" only takes updates (polling,
    webhook, Discord gateway); "worker" only runs the durable work (reminders, card redraws,
    offers, notices people must not miss, series: claimed from the database, so any number
    of workers share it)."""
    services = await build_services(settings)
    workers = durable_workers(services) if role != "web" else []
    takes_updates = role != "worker"
    app = runner = None
    closing: list[Callable[[], Awaitable[None]]] = []
    if not services.db.is_sqlite:  # split roles: what a web process commits wakes the workers
        if role == "web":
            services.db.wakes_others = True
        else:
            from core.wake import Listening

            listening = Listening(services.db)
            await listening.start()
            closing.append(listening.stop)
    try:
        if settings.web_port:
            from adapters.web import build_app

            app = build_app(services)
        platforms = []
        if settings.telegram_bot_token:
            platforms += await _telegram(services, settings, app, takes_updates, closing)
        if settings.discord_bot_token:
            from adapters.discord.bot import community_bot, run_discord

            client = community_bot(services, **_discord_options(settings))
            services.health["discord"] = lambda: _answers(client.wait_until_ready())
            await client.login(settings.discord_bot_token)  # runs setup_hook: commands, notifier
            closing.append(client.close)
            if role != "web":  # activities as the servers' own Scheduled Events, over REST
                from adapters.discord.scheduled import ScheduledEvents

                workers.append(ScheduledEvents(services, client))
            if takes_updates:
                platforms.append(run_discord(client))
        if app is not None:
            from adapters.web import serve

            runner = await serve(app, settings.web_host, settings.web_port)  # type: ignore[arg-type]
        for worker in workers:
            await worker.start()
        if platforms or not takes_updates:
            settle_heap()
            # a worker-only process has no platform to wait on: it runs until it is stopped
            await (asyncio.gather(*platforms) if platforms else asyncio.Event().wait())
            return
        chat = ConsoleChat(services, workers=workers)  # stops them before its "Bye!"
        services.notifiers["console"] = ConsoleNotifier(chat.out, ansi=chat.ansi)
        await chat.run()
    finally:
        for worker in workers:
            await worker.stop()
        await services.settle()
        for close in closing:
            await close()
        if runner is not None:
            await runner.cleanup()
        await services.db.dispose()


async def _telegram(
    services: Services,
    settings: Settings,
    app: Any,
    takes_updates: bool,
    closing: list[Callable[[], Awaitable[None]]],
) -> list[Awaitable[None]]:
    """The Telegram bot and its notifier; and, when this process takes updates, webhook
    routes on the web server or long polling by the one process holding the polling lock."""
    from adapters.telegram.app import build_bot, build_dispatcher, run_telegram, shared_state
    from adapters.telegram.notifier import TelegramNotifier

    token = settings.telegram_bot_token
    assert token is not None
    pacer, shared = None, None
    if settings.redis_url:  # several processes of one bot: one send budget, shared wizards
        from adapters.telegram.shared_pacing import SharedPacer

        pacer = SharedPacer(settings.redis_url, token.split(":")[0])
        closing.append(pacer.close)
        shared = shared_state(settings.redis_url, token.split(":")[0])
        closing.append(shared[0].close)
    bot = build_bot(token, settings.telegram_api_base, pacer)
    closing.append(bot.session.close)
    services.notifiers["telegram"] = TelegramNotifier(bot)
    services.health["telegram"] = lambda: _answers(bot.get_me())
    if not takes_updates:
        return []
    if settings.telegram_webhook_url:
        from adapters.telegram.webhook import add_webhook, set_webhook_once

        if app is None or not settings.telegram_webhook_secret:
            raise SystemExit("webhook mode needs WEB_PORT and TELEGRAM_WEBHOOK_SECRET")
        url, secret = settings.telegram_webhook_url, settings.telegram_webhook_secret
        add_webhook(app, build_dispatcher(services, shared=shared), bot, url, secret, services)

        async def webhook() -> None:
            """Point Telegram here once the web server listens (`run` awaits the platforms
            after starting it): set before, the first updates met a closed port and waited
            for Telegram's retry. Then the web server takes the updates until stopped."""
            await set_webhook_once(services.db, bot, url, secret)
            log.info("Telegram: webhook mode at %s", url)
            await asyncio.Event().wait()

        return [webhook()]

    async def poll() -> None:
        leadership = Leadership(services.db, "telegram-polling")
        await leadership.acquire()  # one poller per token; the others stand by
        try:
            await run_telegram(services, bot, build_dispatcher(services, shared=shared))
        finally:
            await leadership.release()

    return [poll()]


def _discord_options(settings: Settings) -> dict[str, Any]:
    options: dict[str, Any] = {"guild_ids": settings.discord_guilds}
    if settings.discord_shard_count:
        options.update(
            shard_count=settings.discord_shard_count, shard_ids=settings.discord_shards or None
        )
    return options


async def _answers(call: Awaitable[object]) -> bool:
    """A platform is reachable when this call comes back (the health check's timeout bounds
    it)."""
    await call
    return True


async def _set_webhook(settings: Settings) -> None:
    from adapters.telegram.app import build_bot
    from adapters.telegram.webhook import set_webhook

    url, secret = settings.telegram_webhook_url, settings.telegram_webhook_secret
    if not (settings.telegram_bot_token and url and secret):
        raise SystemExit("set TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_URL and TELEGRAM_WEBHOOK_SECRET")
    bot = build_bot(settings.telegram_bot_token, settings.telegram_api_base)
    try:
        changed = await set_webhook(bot, url, secret)
        log.info("webhook %s", "set" if changed else "already set")
    finally:
        await bot.session.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="community-bot", description=__doc__)
    parser.add_argument(
        "command",
        nargs="?",
        default="run",
        choices=("run", "migrate", "set-webhook"),
        help="run (default): start every configured platform, or the console; "
        "migrate: apply database migrations and exit; "
        "set-webhook: point Telegram at TELEGRAM_WEBHOOK_URL and exit",
    )
    parser.add_argument(
        "--role",
        choices=("all", "web", "worker"),
        default="all",
        help="with run: all (default); web: take updates only; worker: durable work only "
        "(reminders, card redraws, offers, promotion notices, series)",
    )
    options = parser.parse_args(argv)
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Libraries that log every job run or every update at INFO would drown the chat and logs;
    # so would Alembic's lines on each start (23 on the first, ahead of the console's banner),
    # kept for `migrate`, where they are what was asked for. LOG_LEVEL=DEBUG shows them all.
    quiet = ("aiosqlite", "apscheduler", "aiogram.event")
    for name in quiet if options.command == "migrate" else (*quiet, "alembic"):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.root.level))
    if options.command == "migrate":
        migrate_sync(settings.database_url)
        log.info("database is up to date")
        return
    if options.command == "set-webhook":
        asyncio.run(_set_webhook(settings))
        return
    try:
        asyncio.run(run(settings, options.role))
    except KeyboardInterrupt:
        pass
    except BrokenPipeError:  # the reader of our output went away (`... | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
