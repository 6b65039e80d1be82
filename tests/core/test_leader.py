"""One process at a time (core/leader.py): a second holder waits, and a killed holder's lock
is free at once, on SQLite (a file lock) and PostgreSQL (an advisory lock)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from core.db import Database
from core.leader import Leadership

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOLD = """
import asyncio, sys
from core.db import Database
from core.leader import Leadership

async def main():
    held = Leadership(Database(sys.argv[1]), "test-lock")
    await held.acquire()
    print("held", flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


async def test_a_second_holder_waits_for_the_first(db: Database) -> None:
    first, second = Leadership(db, "test-lock"), Leadership(db, "test-lock")
    assert await first.try_acquire()
    assert not await second.try_acquire()
    await first.release()
    assert await second.try_acquire()
    await second.release()


async def test_a_killed_holders_lock_is_taken_over(db: Database) -> None:
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        HOLD,
        db.url,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT},
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        line = await asyncio.wait_for(holder.stdout.readline(), 60)  # type: ignore[union-attr]
        assert line.strip() == b"held"
        standby = Leadership(db, "test-lock", poll=0.1)
        assert not await standby.try_acquire()
        holder.send_signal(signal.SIGKILL)
        await asyncio.wait_for(standby.acquire(), 10)  # the lock died with its holder
        await standby.release()
    finally:
        if holder.returncode is None:
            holder.kill()
        await holder.wait()
