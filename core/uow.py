"""Unit of work: one transaction per user action, committed explicitly, rolled back otherwise.

Repositories and queries never commit; the service that owns the action calls `commit()` once,
so a domain error raised halfway leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

WRITE_QUEUE_TIMEOUT = 60.0  # seconds; far beyond any real wait, so a stuck writer is loud


@dataclass
class Changes:
    """What a unit of work changed that others must follow up on, recorded by the services as
    they go (domain events, in the small). Before commit, activities whose roster or details
    changed get their card copies marked stale in the same transaction (core.livecards); after
    commit, the listeners of the database (the reminder runner, the card refresher) are told,
    so every follow-up comes from this one place instead of being wired by hand per command."""

    activities: set[int] = field(default_factory=set)  # roster or details changed
    posts: set[int] = field(default_factory=set)  # likes, replies, text, pin or deletion changed
    listings: bool = False  # an activity was created, moved, edited or cancelled (/nearby)
    reminders: bool = False  # reminder rows were written or changed
    jobs: set[str] = field(default_factory=set)  # kinds of durable jobs scheduled (core.work)
    people: set[int] = field(default_factory=set)  # name, language, zone or accounts changed
    chats: bool = False  # a chat was bound as a group's home, or unbound (its language)

    def __bool__(self) -> bool:
        return bool(
            self.activities
            or self.posts
            or self.listings
            or self.reminders
            or self.jobs
            or self.people
            or self.chats
        )


Listener = Callable[[Changes], None]


class Rider(Protocol):
    """Rows that must commit with the first write of the work under way, or not at all: the
    claim of an incoming update (core.services.inbox) rides with the update's action, so a
    crash between the two can neither lose the action nor apply it twice."""

    done: bool

    async def write(self, uow: UnitOfWork) -> None: ...


#: The rider of the update being handled in this context, if any.
RIDER: contextvars.ContextVar[Rider | None] = contextvars.ContextVar("rider", default=None)


def detached(work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    """A task that outlives the update it was started from (follow-ups, wake-ups): it does
    not carry that update's rider, whose commit belongs to the update alone."""
    context = contextvars.copy_context()
    context.run(RIDER.set, None)
    return asyncio.get_running_loop().create_task(work, context=context)


class UnitOfWork:
    session: AsyncSession

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        sqlite: bool,
        readonly: bool,
        write_queue: asyncio.Lock | None = None,
        listeners: list[Listener] | None = None,
        wakes_others: bool = False,
    ) -> None:
        self._sessions = sessions
        self._wakes_others = wakes_others
        self._listeners = listeners if listeners is not None else []
        self.changes = Changes()
        self._sqlite = sqlite
        self._readonly = readonly
        self._queue = write_queue if sqlite and not readonly else None

    async def __aenter__(self) -> UnitOfWork:
        if self._queue is not None:
            # SQLite admits one writer; its busy handler retries at random intervals, so under
            # load some writers wait far longer than others. Queue this process's writers in
            # arrival order instead (measured in bench/discord_throughput.py: no more missed
            # 3-second deadlines, same throughput). A unit of work never opens another inside.
            async with asyncio.timeout(WRITE_QUEUE_TIMEOUT):
                await self._queue.acquire()
        try:
            self.session = self._sessions()
            if self._sqlite:
                begin = "DEFERRED" if self._readonly else "IMMEDIATE"
                await self.session.connection(execution_options={"sqlite_begin": begin})
        except BaseException:
            if self._queue is not None:
                self._queue.release()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Detach first: what a service read stays readable as plain data after the session ends
        # (a rollback would expire it). Closing ends the transaction in progress (a rollback:
        # nothing uncommitted reaches the database), in one step where rollback-then-close
        # took two trips through the session's machinery (most units of work only read).
        self.session.expunge_all()
        try:
            await self.session.close()
        finally:
            if self._queue is not None:
                self._queue.release()

    def activity_changed(self, event_id: int) -> None:
        """The activity's roster or details changed: its posted cards must be redrawn."""
        self.changes.activities.add(event_id)

    def person_changed(self, person_id: int) -> None:
        """What names the person as an actor changed (core.services.people.ActorCache)."""
        self.changes.people.add(person_id)

    def chats_changed(self) -> None:
        """A chat became a group's home or stopped being one: the language it speaks may differ."""
        self.changes.chats = True

    def post_changed(self, post_id: int) -> None:
        """What a post's card shows changed (likes, replies, text, pin, deletion)."""
        self.changes.posts.add(post_id)

    async def commit(self) -> None:
        changes = self.changes
        if changes.activities or changes.posts:
            from core import livecards  # it builds on this module

            await livecards.mark_stale(self, changes.activities, changes.posts)
        rider = RIDER.get()
        if rider is not None and rider.done:
            rider = None
        if rider is not None:
            await rider.write(self)
        if self._wakes_others and (changes.jobs or changes.reminders):
            from core import wake  # it builds on this module

            await wake.notify(self, changes)
        await self.session.commit()
        if rider is not None:
            rider.done = True
        self.changes = Changes()
        if changes:
            for listener in self._listeners:
                listener(changes)

    async def rollback(self) -> None:
        await self.session.rollback()
