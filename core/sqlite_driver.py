"""aiosqlite, with SQLite's calls made on the event loop's own thread.

aiosqlite runs each call on its connection's own thread and wakes the event loop when the call
is done. That trip costs more than the statement itself on our short queries: SQLAlchemy's
adapter made four for one SELECT and three for a BEGIN, and a Telegram update made about 50
(bench/discovery.py, docs/benchmarks.md). Here a statement runs where it is awaited: a cursor's
`execute` runs it, fetches its rows and closes its sqlite3 cursor at once, and opening, fetching
and closing then return what is already there (the adapter buffers every row anyway).

Two calls may have to wait, and they still go to the thread so that the event loop never does:
- BEGIN IMMEDIATE, when another process holds SQLite's one write lock: it is tried at once with
  SQLite's busy wait off, and only when the database is locked sent to the thread to wait there
  (busy_timeout). This process's own writers never meet there: they queue before (core.uow).
- COMMIT, which may write a WAL checkpoint to disk.
In WAL mode, reading never waits for a writer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import partial
from typing import Any

import aiosqlite


class OneTripCursor:
    """The part of aiosqlite's cursor that SQLAlchemy's buffering adapter uses, in one call per
    statement. What the adapter reads after a statement (description, rowcount, lastrowid) is
    copied from the sqlite3 cursor before that cursor is closed. Server-side cursors (`stream()`)
    would need fetchone/fetchmany: nothing here streams, so there are none.
    """

    arraysize = 1  # read by the adapter's fetchmany() default

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._rows: list[Any] = []
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> OneTripCursor:
        return self

    def _run(self, method: str, operation: str, parameters: Any) -> None:
        """The statement, its rows, and what is known after it."""
        cursor = self._connection._conn.cursor()
        try:
            getattr(cursor, method)(operation, parameters)
            self._rows = cursor.fetchall() if cursor.description else []
            self.description, self.rowcount = cursor.description, cursor.rowcount
            self.lastrowid = cursor.lastrowid
        finally:
            cursor.close()

    async def execute(self, operation: str, parameters: Any = ()) -> OneTripCursor:
        connection = self._connection
        if operation.startswith("BEGIN IMMEDIATE"):
            if not connection._unless_locked(self._run, "execute", operation, parameters):
                await connection._on_thread(self._run, "execute", operation, parameters)
            return self
        await connection._execute(self._run, "execute", operation, parameters)
        return self

    async def executemany(self, operation: str, parameters: Any) -> OneTripCursor:
        await self._connection._execute(self._run, "executemany", operation, parameters)
        return self

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def close(self) -> None:
        self._rows = []


class OneTripConnection(aiosqlite.Connection):
    """An aiosqlite connection that runs its calls at once, on the event loop's thread, except
    those that may wait (`_on_thread`)."""

    _busy_timeout: int | None = None  # ms, as the connection was configured (PRAGMA)

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Every aiosqlite call (statements, rollback, close) comes here: run it now."""
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    async def _on_thread(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a call on the connection's own thread, the event loop free meanwhile."""
        return await super()._execute(fn, *args, **kwargs)

    async def commit(self) -> None:
        await self._on_thread(self._conn.commit)

    def _unless_locked(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Run `fn` now with SQLite's busy wait off; False, having done nothing, when another
        connection holds the lock it needs."""
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        conn = self._conn
        if self._busy_timeout is None:
            self._busy_timeout = conn.execute("PRAGMA busy_timeout").fetchone()[0]
        conn.execute("PRAGMA busy_timeout=0")
        try:
            fn(*args)
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                raise
            return False
        finally:
            conn.execute(f"PRAGMA busy_timeout={self._busy_timeout}")
        return True


UNICODE_LOWER = "unicode_lower"


def _lower(text: str | None) -> str | None:
    return text.lower() if text is not None else None


def connector(
    connect_args: Callable[[], tuple[list[Any], dict[str, Any]]],
) -> Callable[[], Any]:
    """An `async_creator` for create_async_engine: connections made with the arguments the
    SQLite dialect works out from the URL (`connect_args`, asked for when first needed)."""

    async def connect() -> OneTripConnection:
        args, kwargs = connect_args()
        # made on the connection's thread, used on the event loop's: one user at a time
        kwargs = {**kwargs, "check_same_thread": False}
        connection = OneTripConnection(partial(sqlite3.connect, *args, **kwargs), 64)
        connection._thread.daemon = True  # as SQLAlchemy does: never hold the process open
        opened = await connection
        # SQLite's lower() folds ASCII letters only ("Über" stays "Über"); group names are
        # compared through this one instead, as PostgreSQL's lower() compares them
        opened._conn.create_function(UNICODE_LOWER, 1, _lower, deterministic=True)
        return opened

    return connect
