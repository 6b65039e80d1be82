"""One process at a time: a named lock held while the process lives.

Telegram long polling is single-consumer (a second poller gets 409 Conflict), and setWebhook
should be called once, not by every replica. With several processes, one holds the lock and
does the work; the others wait and take over within `poll` seconds when it dies, because the
lock dies with its holder:

- PostgreSQL: a session advisory lock on a connection kept for the purpose (a killed process's
  connection closes, and the server releases the lock);
- SQLite (one machine): an exclusive `flock` on a file beside the database (the kernel releases
  it when the process exits, however it exits).
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import logging
import os
from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db import Database

log = logging.getLogger(__name__)


def _key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock."""
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


class Leadership:
    def __init__(self, db: Database, name: str, *, poll: float = 2.0) -> None:
        self.db, self.name, self.poll = db, name, poll
        self._connection: AsyncConnection | None = None
        self._file: int | None = None

    async def try_acquire(self) -> bool:
        if self.db.is_sqlite:
            return self._try_file()
        connection = await self.db.engine.connect()
        held = (
            await connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": _key(self.name)}
            )
        ).scalar()
        if held:
            self._connection = connection
            return True
        await connection.close()
        return False

    def _try_file(self) -> bool:
        database = make_url(self.db.url).database or "community.db"
        path = Path(f"{database}.{self.name}.lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._file = fd
        return True

    async def acquire(self) -> None:
        """Wait until this process holds the lock."""
        waited = False
        while not await self.try_acquire():
            if not waited:
                log.info("%s: another process holds it; standing by", self.name)
                waited = True
            await asyncio.sleep(self.poll)
        log.info("%s: this process holds it", self.name)

    async def release(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                await connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": _key(self.name)}
                )
            finally:
                await connection.close()
        if self._file is not None:
            fd, self._file = self._file, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
