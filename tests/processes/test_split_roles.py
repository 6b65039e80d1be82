"""Split roles on PostgreSQL, as real OS processes: `community-bot run --role web` takes the
updates and runs no workers; `--role worker` runs them. What the web process commits wakes the
worker process at once (core/wake.py): a waiting person promoted by an organiser's command in
the web process is told by the worker process in seconds, not at the worker's next look (a
minute after it started)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from core.db import Database
from core.models import Identity
from tests.emulators.telegram import TelegramEmulator
from tests.processes.fleet import (
    bot_env,
    seed_attendees,
    seed_event,
    seed_group,
    sent_per_chat,
    start_bot,
    stop,
    until,
)

pytestmark = pytest.mark.postgres

MAYA = 1
FIRST_ID = 7000  # the seat holder; FIRST_ID + 1 waits
NEWS = "a seat opened up"
WORKERS_LOOK = 60  # seconds: a worker's own look for work other processes committed
_LISTENING = sa.text(
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE query LIKE 'LISTEN%' AND datname = current_database()"
)


async def _seed(db: Database) -> None:
    now = datetime.now(UTC)
    async with db.uow() as uow:
        maya, group = await seed_group(uow, now)
        uow.session.add(Identity(person_id=maya.id, platform="telegram", external_id=str(MAYA)))  # type: ignore[arg-type]
        event = await seed_event(
            uow, maya, group, now, starts_at=now + timedelta(days=3), capacity=1, going=1, waiting=1
        )
        await seed_attendees(uow, event, now, FIRST_ID, 1)
        await seed_attendees(uow, event, now, FIRST_ID, 1, "waitlisted", first=1)
        await uow.commit()


async def _listening(db: Database) -> bool:
    async with db.engine.connect() as connection:
        return bool((await connection.execute(_LISTENING)).scalar())


async def test_a_web_process_commit_is_told_by_the_worker_process_at_once(
    postgres_db: Database,
) -> None:
    await _seed(postgres_db)
    async with TelegramEmulator() as emu:
        maya = emu.add_user(MAYA, "Maya")
        emu.add_user(FIRST_ID, "Hiker 0")
        emu.add_user(FIRST_ID + 1, "Hiker 1")
        env = bot_env(postgres_db.url, emu.base_url)
        worker = await start_bot(env, role="worker")
        web = await start_bot(env, role="web")
        try:
            listening = False
            for _ in range(300):  # the worker process is up once it listens
                if listening := await _listening(postgres_db):
                    break
                await asyncio.sleep(0.1)
            assert listening, "the worker process never listened for wake-ups"
            assert await until(lambda: bool(emu.calls_of("getUpdates")), 30), "web not polling"

            emu.send_message(maya, "/editevent 1 capacity 2")  # promotes Hiker 1

            def told() -> dict[int, int]:
                return sent_per_chat(emu, NEWS, FIRST_ID + 1)

            # half the worker's own look: only a wake-up can have told them by then
            assert await until(lambda: bool(told()), WORKERS_LOOK / 2), "not told at once"
            await asyncio.sleep(1)  # what is sent twice would arrive now
            assert told() == {FIRST_ID + 1: 1}
            maya_saw = " ".join(m["plain"] or "" for m in emu.messages(MAYA))
            assert "Activity #1 updated." in maya_saw
        finally:
            await stop(web)
            await stop(worker)
