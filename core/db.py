"""Engine, sessions and migrations for SQLite (embedded default) and PostgreSQL.

SQLite allows one writer. A deferred transaction that reads and then writes fails with
SQLITE_BUSY without waiting for busy_timeout, so write transactions start with BEGIN IMMEDIATE
(emitted here, since the driver's own BEGIN is switched off). Read-only units of work use a plain
deferred BEGIN so readers do not queue behind writers; in WAL mode they never block.
On PostgreSQL, services lock the rows they change (SELECT ... FOR UPDATE).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, func, make_url
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from core import sqlite_driver
from core.uow import Listener, UnitOfWork

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


def folded(dialect: str, column: Any) -> Any:
    """lower(column) folding every letter, as Python's str.lower() folds what it is compared
    with: SQLite's own lower() folds ASCII only ("Über" stays "Über"), so SQLite connections
    carry a function of their own (core.sqlite_driver.UNICODE_LOWER); PostgreSQL's folds all."""
    lower = getattr(func, sqlite_driver.UNICODE_LOWER) if dialect == "sqlite" else func.lower
    return lower(column)


def dialect_of(uow: UnitOfWork) -> str:
    return uow.session.bind.dialect.name  # type: ignore[union-attr]


def on_conflict_insert(dialect: str, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can say what to do ON CONFLICT, in the dialect at hand (the two spell
    the clause alike, but each builds its own)."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


class Database:
    """One engine and its session factory; hands out units of work."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict = {"echo": echo}
        if self.is_sqlite:
            # Every unit of work ends its transaction itself (commit, or rollback on the way
            # out); the pool's extra rollback on return would be one more trip to aiosqlite's
            # thread per transaction. A transaction left open would make the next BEGIN fail
            # loudly, not pass unnoticed.
            kwargs.update(pool_reset_on_return=None)
            # one trip to aiosqlite's thread per statement, not four (core/sqlite_driver.py)
            kwargs.update(async_creator=sqlite_driver.connector(self._connect_args))
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        self.engine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False, autoflush=False
        )
        self._write_queue = asyncio.Lock()
        # told after each commit that changed something others follow up on (core.uow.Changes)
        self.listeners: list[Listener] = []
        # a process that runs no workers tells other processes' workers of the work it
        # commits (PostgreSQL only: core.wake)
        self.wakes_others = False

    def _connect_args(self) -> tuple[list, dict]:
        """What the SQLite dialect would hand aiosqlite.connect for this URL."""
        sync = self.engine.sync_engine
        return sync.dialect.create_connect_args(sync.url)  # type: ignore[return-value]

    def uow(self, *, readonly: bool = False) -> UnitOfWork:
        """A unit of work. `readonly` lets SQLite readers skip the writer queue."""
        return UnitOfWork(
            self._sessions,
            sqlite=self.is_sqlite,
            readonly=readonly,
            write_queue=self._write_queue,
            listeners=self.listeners,
            wakes_others=self.wakes_others,
        )

    async def migrate(self, revision: str = "head") -> None:
        """Bring the schema to the newest Alembic revision (idempotent), or to `revision`."""
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade, revision)

    async def dispose(self) -> None:
        await self.engine.dispose()


def asyncpg_dsn(url: str) -> str:
    """A `postgresql+asyncpg://` URL as asyncpg.connect takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def run_on_server(url: str, statement: str) -> None:
    """One statement on the PostgreSQL server at `url`, outside a transaction: CREATE and DROP
    DATABASE for the scratch databases of the tests and benchmarks."""
    import asyncpg  # here: a bot on SQLite never loads it

    connection = await asyncpg.connect(asyncpg_dsn(url), timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def migrate_sync(url: str) -> None:
    """For the `migrate` CLI command."""

    async def run() -> None:
        db = Database(url)
        try:
            await db.migrate()
        finally:
            await db.dispose()

    asyncio.run(run())
