"""The SQLite connection makes one trip to aiosqlite's thread per statement, and behaves as the
stock one did: rows, row counts, new ids, errors."""

from __future__ import annotations

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
    original = OneTripConnection._execute

    async def counted(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(OneTripConnection, "_execute", counted)
    return sent


async def test_a_read_unit_of_work_is_three_trips(db: Database, trips: list[str]) -> None:
    async with db.uow(readonly=True) as uow:
        await (await uow.session.connection()).exec_driver_sql("SELECT 1")  # connect first
        trips.clear()
        rows = (await run(uow, sa.text("SELECT id, name FROM t"))).all()
    assert rows == []
    # the SELECT (cursor, execute, fetch and close together), then the rollback; the stock
    # cursor made four trips for the SELECT alone
    assert trips == ["_run", "rollback"]

    trips.clear()
    async with db.uow(readonly=True) as uow:
        await run(uow, sa.text("SELECT 1"))
    assert trips == ["_run", "_run", "rollback"]  # BEGIN DEFERRED, SELECT, ROLLBACK


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
