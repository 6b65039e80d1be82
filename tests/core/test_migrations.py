"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import core.models  # noqa: F401 - registers the tables
from core.clock import FrozenClock
from core.db import Database, alembic_config
from core.models import Event, Group
from core.services import events, groups, people
from core.services.events import EventDraft


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


async def test_stored_counts_are_filled_when_migrating_existing_data(
    db: Database, clock: FrozenClock
) -> None:
    """0004 adds the stored counts to a database that already has groups and sign-ups: going
    back to 0003 drops them, and coming forward fills them from the rows."""
    maya, bob, ann = [await _person(db, clock, name) for name in ("maya", "bob", "ann")]
    async with db.uow() as uow:
        await groups.create_group(uow, clock, maya, name="Hiking")
    for who in (bob, ann):
        async with db.uow() as uow:
            await groups.join_group(uow, clock, who, "hiking")
    async with db.uow() as uow:
        view = await events.create_event(
            uow,
            clock,
            maya,
            "hiking",
            EventDraft(
                title="Ridge", starts_at=clock.now() + timedelta(days=3), place="Trail", capacity=1
            ),
        )
    for who in (bob, ann):
        async with db.uow() as uow:
            await events.sign_up(uow, clock, who, view.event.id)  # type: ignore[arg-type]

    async with db.engine.begin() as conn:
        await conn.run_sync(_downgrade, "0003")
    await db.migrate()

    async with db.uow(readonly=True) as uow:
        event = await uow.session.get(Event, view.event.id)
        group = await uow.session.get(Group, view.group.id)
    assert (event.going, event.waiting, group.members) == (1, 1, 3)  # type: ignore[union-attr]
    assert event.heat > 0  # type: ignore[union-attr]


def _downgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def _person(db: Database, clock: FrozenClock, name: str) -> int:
    async with db.uow() as uow:
        actor = await people.resolve_actor(
            uow, clock, platform="test", external_id=name, display_name=name
        )
    return actor.person_id
