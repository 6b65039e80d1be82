"""Durable claimed work (core/work.py): jobs coalesce, a change during a run is not lost, a live
worker keeps its claims, a dead one's claims move on after one short lease."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from core import work
from core.clock import SystemClock
from core.db import Database
from core.models import Job, WorkStatus
from core.uow import Changes
from core.work import Worker


async def _jobs(db: Database) -> list[Job]:
    async with db.uow(readonly=True) as uow:
        return list((await uow.session.exec(select(Job).order_by(Job.id))).all())


async def _schedule(db: Database, key: str, when) -> None:
    async with db.uow() as uow:
        await work.schedule(uow, "test", key, when)
        await uow.commit()


async def test_asking_twice_keeps_one_row_at_the_earlier_time(db: Database, clock) -> None:
    now = clock.now()
    await _schedule(db, "a", now + timedelta(minutes=5))
    await _schedule(db, "a", now + timedelta(minutes=1))
    await _schedule(db, "a", now + timedelta(minutes=9))
    [job] = await _jobs(db)
    assert job.status == WorkStatus.PENDING
    assert job.due_at == now + timedelta(minutes=1)


async def test_a_change_while_the_work_runs_makes_it_run_again(db: Database, clock) -> None:
    await _schedule(db, "a", clock.now())
    async with db.uow() as uow:
        [claimed] = await work.claim(uow, Job, clock.now(), "w1", limit=5)
    await _schedule(db, "a", clock.now())  # asked again while w1 works on it
    async with db.uow() as uow:
        await work.finish(uow, claimed, "w1", clock.now())
    [job] = await _jobs(db)
    assert job.status == WorkStatus.PENDING  # not done: the newer state is still to draw
    async with db.uow() as uow:
        [again] = await work.claim(uow, Job, clock.now(), "w2", limit=5)
    async with db.uow() as uow:
        await work.finish(uow, again, "w2", clock.now())
    [job] = await _jobs(db)
    assert job.status == WorkStatus.DONE


async def test_work_left_for_later_is_due_then_unless_asked_again(db: Database, clock) -> None:
    """A run that could do only part of its work (a card copy in a busy chat) gives the row
    back due when the rest can be done; asked again meanwhile, it is due at once."""
    later = clock.now() + timedelta(seconds=3)
    await _schedule(db, "a", clock.now())
    async with db.uow() as uow:
        [claimed] = await work.claim(uow, Job, clock.now(), "w1", limit=5)
    async with db.uow() as uow:
        await work.finish(uow, claimed, "w1", clock.now(), rest_at=later)
    [job] = await _jobs(db)
    assert (job.status, job.due_at) == (WorkStatus.PENDING, later)
    async with db.uow() as uow:
        assert await work.claim(uow, Job, clock.now(), "w2", limit=5) == []  # not before then

    clock.advance(timedelta(seconds=3))
    async with db.uow() as uow:
        [claimed] = await work.claim(uow, Job, clock.now(), "w2", limit=5)
    await _schedule(db, "a", clock.now())  # asked again while w2 works on it
    async with db.uow() as uow:
        await work.finish(uow, claimed, "w2", clock.now(), rest_at=clock.now() + timedelta(9))
    [job] = await _jobs(db)
    assert (job.status, job.due_at) == (WorkStatus.PENDING, clock.now())


async def test_a_dead_workers_claim_moves_on_after_one_lease(db: Database, clock) -> None:
    await _schedule(db, "a", clock.now())
    async with db.uow() as uow:
        assert len(await work.claim(uow, Job, clock.now(), "dead", limit=5)) == 1
    clock.advance(work.LEASE - timedelta(seconds=1))
    async with db.uow() as uow:
        assert await work.claim(uow, Job, clock.now(), "alive", limit=5) == []
    clock.advance(timedelta(seconds=2))
    async with db.uow() as uow:
        [taken] = await work.claim(uow, Job, clock.now(), "alive", limit=5)
    assert taken.claimed_by == "alive"


async def test_a_claim_taken_over_is_not_finished_by_its_old_holder(db: Database, clock) -> None:
    """A worker whose lease ran out (a stall) learns that its claim moved on, so what must be
    done once (a message) is left to the process that holds the claim now."""
    await _schedule(db, "a", clock.now())
    async with db.uow() as uow:
        [stalled] = await work.claim(uow, Job, clock.now(), "stalled", limit=5)
    clock.advance(work.LEASE + timedelta(seconds=1))
    async with db.uow() as uow:
        [taken] = await work.claim(uow, Job, clock.now(), "alive", limit=5)
    async with db.uow() as uow:
        assert not await work.finish(uow, stalled, "stalled", clock.now())
    async with db.uow() as uow:
        assert await work.finish(uow, taken, "alive", clock.now())
    [job] = await _jobs(db)
    assert job.status == WorkStatus.DONE


async def test_renewing_keeps_a_claim_and_only_the_holders(db: Database, clock) -> None:
    await _schedule(db, "a", clock.now())
    async with db.uow() as uow:
        [job] = await work.claim(uow, Job, clock.now(), "w1", limit=5)
    clock.advance(work.LEASE - timedelta(seconds=1))
    async with db.uow() as uow:
        await work.renew(uow, Job, [job.id], "someone else", clock.now(), work.LEASE)
        await work.renew(uow, Job, [job.id], "w1", clock.now(), work.LEASE)
    clock.advance(timedelta(seconds=5))  # past the first lease, inside the renewed one
    async with db.uow() as uow:
        assert await work.claim(uow, Job, clock.now(), "w2", limit=5) == []


class SlowJobs(Worker):
    model = Job

    def __init__(self, db: Database, seconds: float, **options) -> None:
        super().__init__(db, SystemClock(), **options)
        self.seconds = seconds
        self.started = asyncio.Event()

    async def process(self, rows: list[Job]) -> int:
        self.started.set()
        await asyncio.sleep(self.seconds)
        for job in rows:
            async with self.db.uow() as uow:
                await work.finish(uow, job, self.worker, self.clock.now())
        return len(rows)


async def test_a_live_worker_keeps_its_claim_past_the_lease(sqlite_db: Database) -> None:
    """The heartbeat renews while the work runs longer than a lease; nobody else takes it."""
    lease = timedelta(seconds=2)
    busy = SlowJobs(sqlite_db, seconds=5, lease=lease, worker="busy")
    other = SlowJobs(sqlite_db, seconds=0, lease=lease, worker="other")
    await _schedule(sqlite_db, "a", SystemClock().now())
    await busy.start()
    try:
        await asyncio.wait_for(busy.started.wait(), 10)
        for _ in range(8):  # look for a free claim over 4 s: two leases' worth
            await asyncio.sleep(0.5)
            assert await other.run_due() == 0
    finally:
        await busy.stop()
    [job] = await _jobs(sqlite_db)
    assert job.status == WorkStatus.DONE


async def test_a_wake_during_a_long_pass_becomes_one_more_pass(sqlite_db: Database, caplog) -> None:
    """The safety-net poll fires every 0.1 s while a pass takes a second (a fan-out, redraws
    waiting on a group chat's limit): no wake is skipped with a warning, and work asked for
    meanwhile is done by the pass that follows."""
    worker = SlowJobs(sqlite_db, seconds=1, poll_seconds=0.1)
    await _schedule(sqlite_db, "a", SystemClock().now())
    await worker.start()
    try:
        await asyncio.wait_for(worker.started.wait(), 10)
        await _schedule(sqlite_db, "b", SystemClock().now())  # asked for mid-pass, not poked
        for _ in range(100):  # up to 10 s
            await asyncio.sleep(0.1)
            if [j.status for j in await _jobs(sqlite_db)] == [WorkStatus.DONE] * 2:
                break
    finally:
        await worker.stop()
    assert [j.status for j in await _jobs(sqlite_db)] == [WorkStatus.DONE] * 2
    skipped = [r for r in caplog.records if "maximum number of running instances" in r.message]
    assert skipped == []


async def test_a_change_asks_one_redraw_per_subject_that_has_copies(chat, db: Database) -> None:
    """livecards.mark_stale asks, in one statement, for the "cards" job of every changed
    activity with a posted copy, with schedule()'s rules (here: a claimed job runs again)."""
    from core.models import CardCopy, Event

    await chat.say("Ann", "/newgroup Hiking")
    for title in ("Walk", "Climb", "Swim"):
        await chat.say("Ann", f"/newevent hiking | {title} | 2027-01-10 10:00 | Trailhead")
    async with db.uow() as uow:
        walk, climb, swim = (await uow.session.exec(select(Event.id).order_by(Event.id))).all()
        for n, event_id in enumerate((walk, walk, climb)):
            uow.session.add(
                CardCopy(
                    event_id=event_id,
                    platform="test",
                    chat_id="room",
                    message_id=str(n),
                    created_at=chat.services.clock.now(),
                )
            )
        await uow.commit()
    assert [job.key for job in await _jobs(db) if job.kind == "cards"] == []

    woken = []
    db.listeners.append(lambda changes: woken.append(changes.jobs))

    async def change(*ids: int) -> None:
        async with db.uow() as uow:
            for event_id in ids:
                uow.activity_changed(event_id)
            await uow.commit()

    await change(swim)
    assert [job.key for job in await _jobs(db) if job.kind == "cards"] == []
    assert woken == [set()]  # nothing to redraw: no worker woken for it
    await change(walk, climb, swim)
    assert woken[-1] == {"cards"}  # the refresher is woken at once, not at its next slow tick
    cards = [job for job in await _jobs(db) if job.kind == "cards"]
    assert {job.key for job in cards} == {f"event:{walk}", f"event:{climb}"}
    assert all(job.status == WorkStatus.PENDING for job in cards)
    async with db.uow() as uow:
        [claimed] = await work.claim(
            uow, Job, chat.services.clock.now(), "w1", limit=1, where=Job.kind == "cards"
        )
    await change(walk, climb)
    again = {job.key: job for job in await _jobs(db) if job.kind == "cards"}
    assert len(again) == 2  # still one row per subject
    assert again[claimed.key].status == WorkStatus.CLAIMED
    assert again[claimed.key].generation == claimed.generation + 1  # it runs again when done


class OtherKind(Worker):
    kind = "other"

    async def process(self, rows: list[Job]) -> int:
        return 0


async def test_a_worker_wakes_for_its_own_kind_only(db: Database, clock) -> None:
    """Another kind's due row is not this worker's to claim, so it must not arm for it either
    (armed for it, it would look again every second for as long as that row waits), nor wake
    when a commit schedules it (every click schedules a card redraw)."""
    now = clock.now()
    worker = OtherKind(db, clock)
    assert not worker.wakes_on(Changes(jobs={"test", "cards"}))
    assert worker.wakes_on(Changes(jobs={"cards", "other"}))
    await _schedule(db, "a", now)  # kind "test", due now
    async with db.uow(readonly=True) as uow:
        assert await worker.next_due(uow) is None
    async with db.uow() as uow:
        await work.schedule(uow, "other", "b", now + timedelta(minutes=3))
        await uow.commit()
    async with db.uow(readonly=True) as uow:
        assert await worker.next_due(uow) == now + timedelta(minutes=3)
    assert await worker.run_due() == 0  # nothing of its own is due; the other kind's row stays
    assert [j.status for j in await _jobs(db)] == [WorkStatus.PENDING, WorkStatus.PENDING]
