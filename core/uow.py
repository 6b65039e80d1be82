"""Unit of work: one transaction per user action, committed explicitly, rolled back otherwise.

Repositories and queries never commit; the service that owns the action calls `commit()` once,
so a domain error raised halfway leaves nothing behind.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

WRITE_QUEUE_TIMEOUT = 60.0  # seconds; far beyond any real wait, so a stuck writer is loud


class UnitOfWork:
    session: AsyncSession

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        sqlite: bool,
        readonly: bool,
        write_queue: asyncio.Lock | None = None,
    ) -> None:
        self._sessions = sessions
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
        # (a rollback would expire it). Nothing uncommitted reaches the database either way.
        self.session.expunge_all()
        try:
            await self.session.rollback()
        finally:
            await self.session.close()
            if self._queue is not None:
                self._queue.release()

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()
