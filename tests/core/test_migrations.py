"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import core.models  # noqa: F401 - registers the tables
from core.db import Database


def _differences(connection: Connection) -> list:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "target_metadata": SQLModel.metadata}
    )
    return compare_metadata(context, SQLModel.metadata)


def _schema(connection: Connection) -> dict[str, list]:
    inspector = inspect(connection)
    return {
        table: sorted(
            [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)]
            + [("index", i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(table)]
        )
        for table in sorted(inspector.get_table_names())
    }


async def test_migrated_schema_matches_the_models(db: Database) -> None:
    async with db.engine.connect() as conn:
        differences = await conn.run_sync(_differences)
    assert differences == []


async def test_every_model_table_exists_after_migrating(db: Database) -> None:
    async with db.engine.connect() as conn:
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert set(SQLModel.metadata.tables) <= tables
    assert "alembic_version" in tables


async def test_migrating_twice_changes_nothing(db: Database) -> None:
    async with db.engine.connect() as conn:
        before = await conn.run_sync(_schema)
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    await db.migrate()
    await db.migrate()
    async with db.engine.connect() as conn:
        after = await conn.run_sync(_schema)
        version_after = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
        differences = await conn.run_sync(_differences)
    assert after == before
    assert version_after == version and len(version) == 1
    assert differences == []
