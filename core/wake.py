"""Waking the workers of other processes: PostgreSQL's LISTEN/NOTIFY.

A process wakes its own workers when it commits work (core.uow's listeners). A process that
only takes updates (`community-bot run --role web`) runs no workers, so the work it committed
(a click's card redraws, a promotion notice, an offer, reminders) waited for a worker process's
next look, up to a minute. On PostgreSQL such a process now says so in the same transaction
(`notify`): `pg_notify` is delivered when the transaction commits and never when it rolls back,
so a worker wakes for work that is really there. Each process that runs workers listens on one
connection of its own (`Listening`) and takes what it hears as a commit of its own: the
workers of those kinds run at once. The minute's look stays, for anything said while that
connection was down. SQLite has nothing like it: split roles there keep the minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import sqlalchemy as sa

from core.db import Database, asyncpg_dsn
from core.uow import Changes, UnitOfWork

log = logging.getLogger(__name__)

CHANNEL = "community_work"
REMINDERS = "reminders"  # said beside the job kinds when reminder rows were written
RECONNECT_SECONDS = 5.0
# A connection the network dropped without a word (no FIN) looks alive until something is
# sent on it: a listening connection sends nothing, so it asks the server every so often.
PING_SECONDS = 30.0
_NOTIFY = sa.text("SELECT pg_notify(:channel, :said)")


def said(changes: Changes) -> str:
    """What a commit tells the other processes: the kinds of work it scheduled ("" for none)."""
    return ",".join(sorted(changes.jobs) + ([REMINDERS] if changes.reminders else []))


def heard(payload: str) -> Changes:
    """What another process's commit said, as the Changes this process's workers wake on."""
    kinds = set(filter(None, payload.split(",")))
    return Changes(jobs=kinds - {REMINDERS}, reminders=REMINDERS in kinds)


async def notify(uow: UnitOfWork, changes: Changes) -> None:
    """Inside the transaction, before its commit: wake the other processes' workers for the
    work it scheduled (delivered at commit only)."""
    words = said(changes)
    if words:
        connection = await uow.session.connection()
        await connection.execute(_NOTIFY, {"channel": CHANNEL, "said": words})


class Listening:
    """One connection that hears what other processes' commits said, and tells this process's
    listeners (its workers) as if the commit had been its own. Reconnects when the connection
    is lost; what was said meanwhile is found by the workers' minute's look."""

    def __init__(self, db: Database, *, ping_seconds: float = PING_SECONDS) -> None:
        self.db = db
        self.ping_seconds = ping_seconds
        self._task: asyncio.Task | None = None
        self._connection: Any = None
        self.listening = asyncio.Event()  # set while the connection listens

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task  # a shutdown must go on whatever became of the listening
            self._task = None
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close(timeout=2)
            self._connection = None

    async def _listen(self) -> None:
        import asyncpg  # here: a bot on SQLite never loads it

        while True:
            lost = asyncio.Event()
            try:
                self._connection = await asyncpg.connect(asyncpg_dsn(self.db.url), timeout=10)
                self._connection.add_termination_listener(lambda _, lost=lost: lost.set())
                await self._connection.add_listener(CHANNEL, self._heard)
                self.listening.set()
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), self.ping_seconds)
                    if not lost.is_set():
                        await self._connection.fetchval("SELECT 1", timeout=10)
                log.warning("the wake-up connection was lost; reconnecting")
            except Exception:  # whatever it was: connect again; the workers' own look meanwhile
                log.warning("no wake-up connection; retrying", exc_info=True)
            self.listening.clear()
            if self._connection is not None:
                with contextlib.suppress(Exception):
                    self._connection.terminate()
                self._connection = None
            await asyncio.sleep(RECONNECT_SECONDS)

    def _heard(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        changes = heard(payload)
        for listener in list(self.db.listeners):
            listener(changes)
