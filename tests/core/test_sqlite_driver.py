"""The SQLite connection runs statements on the event loop's thread, sends only what may wait
(a commit, a write lock held by another process) to aiosqlite's thread, and behaves as the
stock one did: rows, row counts, new ids, errors."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.db import Database
from core.sqlite_driver import OneTripConnection
from core.uow import UnitOfWork


@pytest.fixture
async def db(tmp_path: Path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with database.engine.begin() as conn:
        await conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
    yield database
    await database.dispose()


async def run(uow: UnitOfWork, statement: sa.TextClause, parameters=None):  # type: ignore[no-untyped-def]
    return await (await uow.session.connection()).execute(statement, parameters)


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every call sent to a connection's thread."""
    sent: list[str] = []
    original = OneTripConnection._on_thread

    async def counted(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(OneTripConnection, "_on_thread", counted)
    return sent


async def test_only_a_commit_goes_to_the_thread(db: Database, trips: list[str]) -> None:
    async with db.uow(readonly=True) as uow:
        rows = (await run(uow, sa.text("SELECT id, name FROM t"))).all()
    assert rows == [] and trips == []  # BEGIN, SELECT and ROLLBACK made at once
    async with db.uow() as uow:
        await run(uow, sa.text("INSERT INTO t (name) VALUES ('a')"))
        assert trips == []  # the write lock was free: taken at once
        await uow.commit()
    assert trips == ["commit"]  # it may write a checkpoint to disk


async def test_a_writer_waits_for_another_processes_lock_off_the_event_loop(
    db: Database, tmp_path: Path, trips: list[str]
) -> None:
    other = Database(db.url)  # another process's connection to the same file
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        async with other.uow() as holder:
            await run(holder, sa.text("INSERT INTO t (name) VALUES ('theirs')"))

            async def write() -> None:
                async with db.uow() as uow:
                    await run(uow, sa.text("INSERT INTO t (name) VALUES ('ours')"))
                    await uow.commit()

            writer = asyncio.create_task(write())
            await asyncio.sleep(0.3)
            assert not writer.done() and ticks >= 10  # waiting, and the loop runs meanwhile
            await holder.commit()
        await asyncio.wait_for(writer, 10)
    finally:
        ticker.cancel()
        await other.dispose()
    assert trips[0] == "_run"  # the BEGIN IMMEDIATE, sent to wait on the thread
    async with db.uow(readonly=True) as uow:
        names = (await run(uow, sa.text("SELECT name FROM t ORDER BY id"))).scalars()
        assert list(names) == ["theirs", "ours"]


async def test_rows_counts_and_new_ids(db: Database) -> None:
    async with db.uow() as uow:
        inserted = await run(uow, sa.text("INSERT INTO t (name) VALUES ('a'), ('b')"))
        assert inserted.rowcount == 2
        await run(
            uow, sa.text("INSERT INTO t (name) VALUES (:name)"), [{"name": "c"}, {"name": "d"}]
        )
        new = await run(uow, sa.text("INSERT INTO t (name) VALUES ('e')"))
        assert new.lastrowid == 5
        updated = await run(uow, sa.text("UPDATE t SET name = name || '!'"))
        assert updated.rowcount == 5
        await uow.commit()
    async with db.uow(readonly=True) as uow:
        names = (await run(uow, sa.text("SELECT name FROM t ORDER BY id"))).scalars()
        assert list(names) == ["a!", "b!", "c!", "d!", "e!"]


async def test_an_error_is_sqlalchemys_and_the_connection_goes_on(db: Database) -> None:
    async with db.uow() as uow:
        await run(uow, sa.text("INSERT INTO t (name) VALUES ('a')"))
        with pytest.raises(sa.exc.IntegrityError):
            await run(uow, sa.text("INSERT INTO t (name) VALUES ('a')"))
    async with db.uow() as uow:  # the failed unit of work left nothing behind
        assert (await run(uow, sa.text("SELECT count(*) FROM t"))).scalar() == 0
        with pytest.raises(sa.exc.OperationalError):
            await run(uow, sa.text("SELECT nothing FROM nowhere"))
