"""aiosqlite with one trip to its thread per statement.

aiosqlite runs each call on its connection's own thread and wakes the event loop when the call
is done. SQLAlchemy's adapter makes four such calls for one SELECT (open a cursor, execute, fetch
all, close) and three for a BEGIN: a /nearby call made 16 trips and a Telegram update about 50,
each costing more than the statement itself on a short query (bench/discovery.py,
docs/benchmarks.md). The cursor here answers the same calls with one trip: `execute` runs the
statement, fetches its rows and closes its sqlite3 cursor on the thread; opening, fetching and
closing then return what is already there. The adapter fetches every row of a result anyway
(it buffers them), so nothing is read earlier than it would have been.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import partial
from typing import Any

import aiosqlite


class OneTripCursor:
    """The part of aiosqlite's cursor that SQLAlchemy's buffering adapter uses, in one trip per
    statement. What the adapter reads after a statement (description, rowcount, lastrowid) is
    copied from the sqlite3 cursor on the thread, before that cursor is closed. Server-side
    cursors (`stream()`) would need fetchone/fetchmany: nothing here streams, so there are none.
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
        """On the connection's thread: the statement, its rows, and what is known after it."""
        cursor = self._connection._conn.cursor()
        try:
            getattr(cursor, method)(operation, parameters)
            self._rows = cursor.fetchall() if cursor.description else []
            self.description, self.rowcount = cursor.description, cursor.rowcount
            self.lastrowid = cursor.lastrowid
        finally:
            cursor.close()

    async def execute(self, operation: str, parameters: Any = ()) -> OneTripCursor:
        await self._connection._execute(self._run, "execute", operation, parameters)
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
    """An aiosqlite connection whose cursors make one trip per statement."""

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        return OneTripCursor(self)


def connector(
    connect_args: Callable[[], tuple[list[Any], dict[str, Any]]],
) -> Callable[[], Any]:
    """An `async_creator` for create_async_engine: connections made with the arguments the
    SQLite dialect works out from the URL (`connect_args`, asked for when first needed)."""

    async def connect() -> OneTripConnection:
        args, kwargs = connect_args()
        connection = OneTripConnection(partial(sqlite3.connect, *args, **kwargs), 64)
        connection._thread.daemon = True  # as SQLAlchemy does: never hold the process open
        return await connection

    return connect
