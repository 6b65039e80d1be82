"""Unit of work: one transaction per user action, committed explicitly, rolled back otherwise.

Repositories and queries never commit; the service that owns the action calls `commit()` once,
so a domain error raised halfway leaves nothing behind.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession


class UnitOfWork:
    session: AsyncSession

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, sqlite: bool, readonly: bool
    ) -> None:
        self._sessions = sessions
        self._sqlite = sqlite
        self._readonly = readonly

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessions()
        if self._sqlite:
            begin = "DEFERRED" if self._readonly else "IMMEDIATE"
            await self.session.connection(execution_options={"sqlite_begin": begin})
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

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()
