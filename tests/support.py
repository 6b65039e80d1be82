"""Shared test helpers: database URLs, a fresh PostgreSQL database, and a chat driver.

PostgreSQL tests run against TEST_POSTGRES_URL (default: the local server's `test` database as
`postgres`). Locally they skip when no server answers; with REQUIRE_POSTGRES=1 (set by .ci/run)
an unreachable server fails the run instead, so CI can never go green without them.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
from sqlalchemy.engine import make_url

from core.cards import Card, Reply
from core.chat import Services, handle_action, handle_text
from core.chat.registry import Context
from core.clock import FrozenClock
from core.db import run_on_server
from core.i18n import Translator
from core.livecards import CardRefresher
from core.models import Identity
from core.notices import NoticeWorker
from core.notify import DeliveryFailed
from core.services import people
from core.uow import detached

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
# Redis for the tests of state shared by several processes (.ci/run starts it when it is down)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
START = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def new_clock() -> FrozenClock:
    return FrozenClock(START)


def _admin(url: str, statement: str) -> None:
    """Run one statement on its own loop in a thread: fixtures may call it inside a test's loop."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run_on_server(url, statement)).result()


def create_postgres_database() -> str | None:
    """Create an empty database for this test run; None when no server answers."""
    name = f"community_test_{secrets.token_hex(4)}"
    try:
        _admin(POSTGRES_URL, f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return None
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    _admin(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class ProcessWorkers:
    """The durable workers that follow what a bot did, as bots/cli.py runs them in a process
    that takes updates: card redraws and the notices people must not miss. Two bots in one
    test process share one set, as they would share one process."""

    def __init__(self, services: Services) -> None:
        self.refresher = CardRefresher(services)
        self.notices = NoticeWorker(services)

    async def start(self) -> None:
        await self.refresher.start()
        await self.notices.start()

    async def stop(self) -> None:
        await self.notices.stop()
        await self.refresher.stop()


@dataclass
class Chat:
    """Drives core.chat as several people on one platform, like the console does; after each
    action, what followed it went out (the notices and announcements it asked for)."""

    services: Services
    platform: str = "test"
    buttons: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.notices = NoticeWorker(self.services)

    async def settled(self) -> None:
        await self.services.settle()  # what follows the answer
        await detached(self.notices.run_due())  # as the worker runs: apart from the update

    async def context(self, who: str, locale: str | None = None) -> Context:
        async with self.services.db.uow() as uow:
            actor = await people.resolve_actor(
                uow,
                self.services.clock,
                platform=self.platform,
                external_id=who.lower(),
                display_name=who,
                platform_locale=locale,
            )
        return Context(self.services, actor, Translator(actor.locale))

    async def say(self, who: str, text: str, locale: str | None = None) -> Reply:
        reply = await handle_text(await self.context(who, locale), text)
        await self.settled()
        return reply

    async def click(self, who: str, payload: str) -> Reply:
        reply = await handle_action(await self.context(who), payload)
        await self.settled()
        return reply

    async def unattended(self, who: str, text: str) -> Reply:
        """A command (or, without its slash, a button's payload) handled by a process that dies
        right after it answered: what it committed stays, no worker of its ran after it."""
        context = await self.context(who)
        if text.startswith("/"):
            reply = await handle_text(context, text)
        else:
            reply = await handle_action(context, text)
        await self.services.settle()
        return reply

    async def person_id(self, who: str) -> int:
        return (await self.context(who)).me


@dataclass
class RecordingNotifier:
    """A Notifier for the test platform: records what each person and chat was sent, and
    refuses people listed in `unreachable` as a platform would (blocked, DMs closed)."""

    platform: str = "test"
    sent: list[tuple[str, Card]] = field(default_factory=list)
    posted: list[tuple[str, Card]] = field(default_factory=list)
    unreachable: set[str] = field(default_factory=set)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, identity: Identity, card: Card) -> None:
        if identity.external_id in self.unreachable:
            raise DeliveryFailed("blocked by the user")
        self.sent.append((identity.external_id, card))
        self.arrived.set()

    async def post(self, chat_id: str, card: Card) -> None:
        self.posted.append((chat_id, card))

    def texts_to(self, who: str) -> list[str]:
        return [card.text for name, card in self.sent if name == who.lower()]
