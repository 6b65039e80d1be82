"""Split roles on PostgreSQL: what a process that runs no workers (`--role web`) commits wakes
the worker processes at once (core/wake.py), instead of at their next look, up to a minute
later. Two Database objects on one PostgreSQL database stand for the two processes; the
worker's own look is set to an hour, so only the wake-up can make it run."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from core import wake
from core.chat import Services, handle_action
from core.clock import FrozenClock
from core.db import Database
from core.notices import NoticeWorker
from core.settings import Settings
from core.uow import Changes
from core.wake import Listening, heard, said
from tests.processes.fleet import until
from tests.support import Chat, RecordingNotifier

pytestmark = pytest.mark.postgres


def test_what_a_commit_says_is_what_the_other_process_hears() -> None:
    changes = Changes(jobs={"promoted", "cards"}, reminders=True)
    assert said(changes) == "cards,promoted,reminders"
    assert heard(said(changes)) == Changes(jobs={"promoted", "cards"}, reminders=True)
    assert said(Changes(activities={1})) == ""  # nothing for a worker: nothing said


async def test_a_web_process_commit_wakes_the_worker_process_at_once(
    postgres_db: Database, clock: FrozenClock, settings: Settings
) -> None:
    web = Services(db=postgres_db, clock=clock, settings=settings)
    chat = Chat(web)  # the web process: takes updates, runs no workers
    worker_db = Database(postgres_db.url)  # the worker process, on its own connections
    worker = Services(db=worker_db, clock=clock, settings=settings)
    sent = worker.notifiers["test"] = RecordingNotifier()
    woken: list[Changes] = []
    worker_db.listeners.append(woken.append)
    notices = NoticeWorker(worker, poll_seconds=3600)
    listening = Listening(worker_db)
    try:
        await listening.start()
        await notices.start()
        async with asyncio.timeout(30):
            await listening.listening.wait()
            # a process that runs its own workers says nothing (here: the reminders written)
            await chat.say("maya", "/newgroup Hiking")
            await chat.say("maya", "/newevent hiking | Ridge | 2026-12-06 07:30 | Park | free | 1")
            await chat.click("ann", "su:1")
            await chat.click("bob", "su:1")  # waits for the one seat
            postgres_db.wakes_others = True
            async with postgres_db.uow() as uow:  # nor does a transaction that rolls back
                uow.changes.jobs.add("promoted")
                uow.changes.reminders = True

            # Ann gives her seat up in the web process: Bob is told by the worker process
            await handle_action(await chat.context("ann"), "cx:1")
            await web.settle()
            await sent.arrived.wait()
        assert [who for who, _ in sent.sent] == ["bob"]
        assert sent.texts_to("bob")[0].startswith("Good news: a seat opened up")
        assert [sorted(change.jobs) for change in woken] == [["promoted"]]
    finally:
        await notices.stop()
        await listening.stop()
        await worker_db.dispose()


async def test_a_lost_wake_up_connection_comes_back(
    postgres_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server drops the listening connection (a restart, a failover): it listens again,
    and what is said after that is heard. (It asks the server every `ping_seconds` meanwhile,
    as it must to notice a connection the network dropped without a word.)"""
    monkeypatch.setattr(wake, "RECONNECT_SECONDS", 0.1)
    worker_db = Database(postgres_db.url)
    woken: list[Changes] = []
    worker_db.listeners.append(woken.append)
    listening = Listening(worker_db, ping_seconds=0.05)
    try:
        await listening.start()
        async with asyncio.timeout(30):
            await listening.listening.wait()
            async with postgres_db.engine.connect() as connection:
                await connection.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE query LIKE 'LISTEN%' AND datname = current_database()"
                    )
                )
            assert await until(lambda: not listening.listening.is_set(), 30)
            await listening.listening.wait()
            postgres_db.wakes_others = True
            async with postgres_db.uow() as uow:
                uow.changes.reminders = True
                await uow.commit()
            assert await until(lambda: bool(woken), 30)
        assert woken == [Changes(reminders=True)]
    finally:
        await listening.stop()
        await worker_db.dispose()
