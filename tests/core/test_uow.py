"""A unit of work that ends without commit leaves nothing behind, and its connection, back in
the pool, starts the next unit of work cleanly (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from core.clock import FrozenClock
from core.db import Database
from core.models import Person


class Halfway(Exception):
    """A domain error raised after a write, before the commit."""


async def _people(db: Database) -> int:
    async with db.uow(readonly=True) as uow:
        return (await uow.session.exec(select(func.count()).select_from(Person))).one()


async def test_what_was_not_committed_is_gone_and_the_next_unit_starts_clean(
    db: Database, clock: FrozenClock
) -> None:
    for n in range(12):  # more than the pool holds: every connection ends one unit this way
        with pytest.raises(Halfway):
            async with db.uow() as uow:
                uow.session.add(Person(display_name=f"ghost {n}", created_at=clock.now()))
                await uow.session.flush()  # the row is written in the open transaction
                raise Halfway
        async with db.uow(readonly=True) as uow:  # a read left open by the unit before fails
            await uow.session.exec(select(Person))
        async with db.uow() as uow:
            uow.session.add(Person(display_name=f"kept {n}", created_at=clock.now()))
            await uow.commit()
    assert await _people(db) == 12


async def test_what_a_unit_read_stays_readable_after_it_ends(
    db: Database, clock: FrozenClock
) -> None:
    async with db.uow() as uow:
        uow.session.add(Person(display_name="Maya", created_at=clock.now()))
        await uow.commit()
    async with db.uow(readonly=True) as uow:
        person = (await uow.session.exec(select(Person))).one()
    assert person.display_name == "Maya"  # detached as plain data, not expired
