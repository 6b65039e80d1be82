"""Finding a group by what people type (/join, /post, /ban …) among many groups, on SQLite.

The baseline is the statement the product ran until session 15, `slug = ? OR lower(name) = ?`:
SQLite answers an OR with a function on one side by reading every group. The product now asks
the slug's unique index first and reads the names only when no slug matches
(`groups.find_group`; `find_group_at_start` for /post's "group then text"). Both are timed in
the same run, on the same file.

    .venv/bin/python -m bench.group_lookup            # about 10 seconds
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import sqlalchemy as sa

from core.clock import SystemClock
from core.db import Database
from core.models import Group
from core.services import groups, people
from core.uow import UnitOfWork

GROUPS = 10_000
RUNS = 200
BASELINE = sa.select(Group).where(
    sa.or_(Group.slug == sa.bindparam("slug"), sa.func.lower(Group.name) == sa.bindparam("name"))
)


async def _seed(db: Database) -> None:
    async with db.uow() as uow:
        await people.resolve_actor(
            uow, SystemClock(), platform="bench", external_id="1", display_name="Owner"
        )
    created = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {
            "name": f"Group {n}",
            "slug": f"group-{n}",
            "description": "",
            "tags": "",
            "timezone": "UTC",
            "created_at": created,
            "created_by": 1,
        }
        for n in range(GROUPS)
    ]
    async with db.uow() as uow:
        await (await uow.session.connection()).execute(sa.insert(Group), rows)
        await uow.commit()


async def _ms(db: Database, lookup: Callable[[UnitOfWork], Awaitable[object]]) -> float:
    async with db.uow(readonly=True) as uow:
        for _ in range(5):
            await lookup(uow)
        began = time.perf_counter()
        for _ in range(RUNS):
            await lookup(uow)
        return (time.perf_counter() - began) / RUNS * 1000


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite+aiosqlite:///{folder}/groups.db")
        await db.migrate()
        await _seed(db)
        params = {"slug": "group-5000", "name": "group 5000"}
        baseline = await _ms(db, lambda uow: uow.session.exec(BASELINE, params=params))
        found = await _ms(db, lambda uow: groups.find_group(uow, "Group 5000"))
        at_start = await _ms(db, lambda uow: groups.find_group_at_start(uow, "group 5000 Hi all"))
        await db.dispose()
    print(f"Finding a group among {GROUPS:,} on SQLite, {RUNS} lookups each, ms per lookup")
    print(f"  baseline (slug = ? OR lower(name) = ?): {baseline:6.3f}")
    print(f"  find_group:                             {found:6.3f}   ({baseline / found:.0f}x)")
    print(
        f"  find_group_at_start (/post):            {at_start:6.3f}   ({baseline / at_start:.0f}x)"
    )


if __name__ == "__main__":
    asyncio.run(main())
