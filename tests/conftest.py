"""Fixtures: a real database per test (SQLite always, PostgreSQL where reachable or required)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from core.chat import Services
from core.clock import FrozenClock
from core.db import Database
from core.settings import Settings
from tests.support import (
    REQUIRE_POSTGRES,
    Chat,
    create_postgres_database,
    drop_postgres_database,
    new_clock,
)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url = create_postgres_database()
    if url is None:
        if REQUIRE_POSTGRES:
            pytest.fail("PostgreSQL is required (REQUIRE_POSTGRES=1) but did not answer")
        pytest.skip("no PostgreSQL server reachable; set TEST_POSTGRES_URL")
    yield url
    drop_postgres_database(url)


_MIGRATED: set[str] = set()


async def _postgres(url: str) -> Database:
    db = Database(url, pool_size=20)
    if url not in _MIGRATED:
        await db.migrate()
        _MIGRATED.add(url)
    else:
        async with db.engine.begin() as conn:
            tables = (
                (
                    await conn.execute(
                        text(
                            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                            "AND tablename <> 'alembic_version'"
                        )
                    )
                )
                .scalars()
                .all()
            )
            await conn.execute(
                text(
                    "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
                )
            )
    return db


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty database: a SQLite file, or the run's PostgreSQL database emptied."""
    if request.param == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
        await database.migrate()
    else:
        database = await _postgres(request.getfixturevalue("postgres_url"))
    yield database
    await database.dispose()


@pytest.fixture
async def postgres_db(postgres_url: str) -> AsyncIterator[Database]:
    """PostgreSQL only, for what only PostgreSQL has (mark the test `postgres`)."""
    database = await _postgres(postgres_url)
    yield database
    await database.dispose()


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """SQLite only, for tests about the embedded default itself."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
    await database.migrate()
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return new_clock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", seed_demo=False
    )


@pytest.fixture
def services(db: Database, clock: FrozenClock, settings: Settings) -> Services:
    return Services(db=db, clock=clock, settings=settings)


@pytest.fixture
def chat(services: Services) -> Chat:
    return Chat(services)
