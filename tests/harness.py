"""The real aiogram Bot and Dispatcher, polling the local Telegram emulator over HTTP.

`TelegramHarness.say()` and `.click()` return once the bot has finished handling the update
(a tracking middleware marks each update_id done), so tests never sleep or guess.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.types import TelegramObject, Update

from adapters.telegram.app import (
    CONCURRENT_UPDATES,
    build_bot,
    build_dispatcher,
    register_commands,
)
from adapters.telegram.middlewares import FloodMiddleware
from adapters.telegram.notifier import TelegramNotifier
from adapters.telegram.pacing import Pacer
from core import livecards
from core.chat import Services
from core.models import Job, WorkStatus
from tests.emulators.telegram import EmuUser, TelegramEmulator
from tests.support import ProcessWorkers

BUSY_RETRY_AT_MOST = timedelta(minutes=2)  # a busy chat's copy is retried sooner than this
FAST = Pacer(
    per_second=10_000, per_chat_per_second=10_000, chat_burst=10_000, group_per_minute=600_000
)


class _Track(BaseMiddleware):
    """Outermost middleware: signals when an update has been fully handled (or skipped)."""

    def __init__(self) -> None:
        self.done: dict[int, asyncio.Event] = {}

    def event(self, update_id: int) -> asyncio.Event:
        return self.done.setdefault(update_id, asyncio.Event())

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Update)
        try:
            return await handler(event, data)
        finally:
            self.event(event.update_id).set()


class TelegramHarness:
    def __init__(
        self,
        emu: TelegramEmulator,
        services: Services,
        pacer: Pacer = FAST,
        flood: FloodMiddleware | None = None,
        workers: ProcessWorkers | None = None,
        shared: tuple[BaseStorage, BaseEventIsolation] | None = None,
    ) -> None:
        """`workers`: the process's durable workers when another harness runs them already
        (one set per process, as in bots/cli.py)."""
        self.emu = emu
        self.services = services
        self.bot: Bot = build_bot("42:TEST", emu.base_url, pacer=pacer)
        self.track = _Track()
        # Tests type faster than people: a loose flood limit unless a test brings its own; and
        # a loaded test machine must not turn a toast into "queued" (the deployed 0.7 s is
        # tested by the tests that bring the deployed FloodMiddleware).
        flood = flood or FloodMiddleware(limit=1000, per=1.0, answer_within=8.0)
        self.dp: Dispatcher = build_dispatcher(
            services, observer=self.track, flood=flood, shared=shared
        )
        self._own_workers = workers is None
        self.workers = workers or ProcessWorkers(services)
        self.refresher = self.workers.refresher
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        services = self.services
        services.notifiers["telegram"] = TelegramNotifier(self.bot)
        await register_commands(self.bot)
        if self._own_workers:
            await self.workers.start()
        self._task = asyncio.create_task(
            self.dp.start_polling(
                self.bot,
                handle_signals=False,
                polling_timeout=1,
                tasks_concurrency_limit=CONCURRENT_UPDATES,
            )
        )

    async def stop(self) -> None:
        """Stop polling and the workers (a second call does nothing: tests may stop a bot to
        restart another on the same database, and the fixture stops it again)."""
        if self._task is None:
            return
        await self.dp.stop_polling()
        await asyncio.wait_for(self._task, 10)
        self._task = None
        await self.settled()
        if self._own_workers:
            await self.workers.stop()
        await self.bot.session.close()

    async def settled(self) -> None:
        """Wait until the follow-ups of what was handled went out (durable notices among
        them) and every stale card copy was redrawn."""
        async with asyncio.timeout(30):
            await self.services.settle()
            await self.workers.notices.tick()
            await self.refresher.tick()
            while await self._redraws_left():  # a copy in a busy chat comes back later
                await asyncio.sleep(0.05)
                await self.refresher.tick()

    async def _redraws_left(self) -> bool:
        """Whether cards jobs are left. A copy whose chat was busy is due again a few seconds
        later by the services' clock, which stands still in most tests while the chat's limit
        runs on real time: such jobs are made due now. A job due at its activity's start (when
        its cards close by themselves) is not left: it waits for the clock to get there."""
        now = self.services.clock.now()
        cards = sa.and_(Job.kind == livecards.KIND, Job.due_at < now + BUSY_RETRY_AT_MOST)
        async with self.services.db.uow() as uow:
            await uow.session.exec(
                sa.update(Job).where(cards, Job.status == WorkStatus.PENDING).values(due_at=now)
            )
            await uow.commit()
            left = await uow.session.exec(
                sa.select(Job.id).where(cards, Job.status != WorkStatus.DONE)
            )
            return left.first() is not None

    async def handled(self, updates: list[dict[str, Any]], seconds: float = 60) -> None:
        """Wait until every one of these pushed updates was handled, then for what followed."""
        async with asyncio.timeout(seconds):
            for update in updates:
                await self.track.event(update["update_id"]).wait()
        await self.settled()

    async def _handled(self, update: dict[str, Any]) -> None:
        async with asyncio.timeout(10):
            await self.track.event(update["update_id"]).wait()
        await self.settled()

    async def say(self, user: EmuUser | int, text: str, chat_id: int | None = None) -> list[dict]:
        """The user sends text; returns the bot's new messages in that chat."""
        chat = chat_id if chat_id is not None else (user if isinstance(user, int) else user.id)
        before = {m["message_id"] for m in self.emu.messages(chat)}
        await self._handled(self.emu.send_message(user, text, chat_id=chat_id))
        return [m for m in self.emu.messages(chat) if m["message_id"] not in before]

    async def push(self, update: dict[str, Any]) -> None:
        await self._handled(self.emu.push_update(update))

    async def click(self, user: EmuUser | int, message: dict, label: str) -> dict:
        """Press the button whose label contains `label`; returns the callback answer."""
        _, data = self.emu.find_button(message, label)
        answers = len(self.emu.callback_answers)
        await self._handled(self.emu.click(user, message, data))  # type: ignore[arg-type]
        return self.emu.callback_answers[answers]

    def current(self, message: dict) -> dict:
        """The message as it is now, after any edits."""
        return next(
            m
            for m in self.emu.messages(message["chat_id"])
            if m["message_id"] == message["message_id"]
        )
