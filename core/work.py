"""Durable claimed work: the one mechanism behind reminders, card redraws and (later) timed
offers.

Work is a database row written in the business transaction that makes it necessary. A process
claims due rows with a short lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL; on SQLite the write
transaction's `BEGIN IMMEDIATE` admits one claimer at a time), and a heartbeat renews the lease
of every row it is still working on. A process that dies stops renewing, so its rows are due
again within one lease (seconds, not minutes) and any live process takes them over.

APScheduler is each process's alarm clock only: a `Worker` arms one date job for the earliest
due row, is poked when this process schedules work, and ticks slowly for rows written by other
processes. The rows decide what is due.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import secrets
import socket
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from sqlmodel import select

from core.clock import Clock
from core.db import Database, on_conflict_insert
from core.models import Job, WorkStatus
from core.uow import Changes, UnitOfWork, detached

log = logging.getLogger(__name__)

# How long a claim holds without renewal, and how often a live worker renews it. A killed
# process's work moves on within LEASE; renewing three times per lease survives a slow beat.
LEASE = timedelta(seconds=15)
AT_ONCE = datetime(2000, 1, 1, tzinfo=UTC)  # due before any clock's now: "as soon as claimed"
# Seconds before looking again at rows that are due but were not claimable (another process's
# claim was holding them). Not at once: each look would arm the next at once, in a busy loop.
RELOOK = 1.0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


# ---- leases over any table with status, claimed_by and lease_until -------------------------


def due_clause(model: Any, now: datetime) -> sa.ColumnElement[bool]:
    """Pending rows whose time has come, and claims whose lease ran out (their process died)."""
    return sa.or_(
        sa.and_(model.status == WorkStatus.PENDING, model.due_at <= now),
        sa.and_(model.status == WorkStatus.CLAIMED, model.lease_until < now),
    )


async def next_due(
    uow: UnitOfWork, model: Any, where: sa.ColumnElement[bool] | None = None
) -> datetime | None:
    """When a worker should next look: the earliest pending row, or the earliest lease end,
    among its own rows (`where`: a job worker's kind; another kind's due rows are not its)."""
    mine = sa.true() if where is None else where
    pending = (
        await uow.session.exec(
            select(sa.func.min(model.due_at)).where(model.status == WorkStatus.PENDING, mine)
        )
    ).one()
    leased = (
        await uow.session.exec(
            select(sa.func.min(model.lease_until)).where(model.status == WorkStatus.CLAIMED, mine)
        )
    ).one()
    times = [t for t in (pending, leased) if t is not None]
    return min(times) if times else None


async def claim(
    uow: UnitOfWork,
    model: Any,
    now: datetime,
    worker: str,
    *,
    limit: int,
    lease: timedelta = LEASE,
    where: sa.ColumnElement[bool] | None = None,
) -> list[Any]:
    """Claim up to `limit` due rows of `model` for `worker`, atomically, and commit."""
    statement = select(model).where(due_clause(model, now))
    if where is not None:
        statement = statement.where(where)
    rows = list(
        (
            await uow.session.exec(
                statement.order_by(model.due_at, model.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
    )
    for row in rows:
        row.status, row.claimed_by, row.lease_until = WorkStatus.CLAIMED, worker, now + lease
        uow.session.add(row)
    await uow.commit()
    return rows


async def renew(
    uow: UnitOfWork, model: Any, ids: Iterable[int], worker: str, now: datetime, lease: timedelta
) -> None:
    """Extend this worker's claims on these rows (rows another worker took over are left)."""
    ids = list(ids)
    if not ids:
        return
    await uow.session.exec(
        sa.update(model)
        .where(
            model.id.in_(ids),
            model.status == WorkStatus.CLAIMED,
            model.claimed_by == worker,
        )
        .values(lease_until=now + lease)
    )
    await uow.commit()


# ---- jobs: work that is not a reminder --------------------------------------------------


_COLUMNS = ("kind", "key", "due_at", "status", "generation", "attempts")


def _on_conflict(insert: Any) -> sa.Insert:
    """What asking again for a (kind, key) that has its row does (see schedule)."""
    claimed = Job.status == WorkStatus.CLAIMED  # type: ignore[arg-type]
    pending = Job.status == WorkStatus.PENDING  # type: ignore[arg-type]
    table = Job.__table__  # type: ignore[attr-defined]
    return insert.on_conflict_do_update(
        index_elements=["kind", "key"],
        set_={
            "generation": table.c.generation + 1,
            "status": sa.case((claimed, WorkStatus.CLAIMED), else_=WorkStatus.PENDING),
            "due_at": sa.case(
                (claimed, table.c.due_at),
                (sa.and_(pending, table.c.due_at < insert.excluded.due_at), table.c.due_at),
                else_=insert.excluded.due_at,
            ),
            "attempts": sa.case((claimed, table.c.attempts), else_=0),
            "payload": insert.excluded.payload,
        },
    )


@functools.cache
def _upsert(dialect: str) -> sa.Insert:
    """schedule()'s statement for one dialect, built once: building it, and working out its
    cache key, cost more than running it."""
    table = Job.__table__  # type: ignore[attr-defined]
    return _on_conflict(
        on_conflict_insert(dialect, Job).values(
            kind=sa.bindparam("kind"),
            key=sa.bindparam("key"),
            due_at=sa.bindparam("due_at", type_=table.c.due_at.type),
            status=WorkStatus.PENDING,
            generation=0,
            attempts=0,
            payload=sa.bindparam("payload"),
        )
    )


def upsert_each(dialect: str, kind: str, keys: sa.Select) -> sa.Insert:
    """schedule() for every key that `keys` selects (its one column, labelled "key", each key
    once), in one statement, due at the `due_at` parameter, with the `payload` one (None when
    not given: schedule_each). Built once by its callers."""
    table = Job.__table__  # type: ignore[attr-defined]
    chosen = keys.subquery()
    rows = sa.select(
        sa.literal(kind),
        chosen.c.key,
        sa.bindparam("due_at", type_=table.c.due_at.type),
        sa.literal(WorkStatus.PENDING.value),
        sa.literal(0),
        sa.literal(0),
        sa.bindparam("payload", type_=table.c.payload.type),
    ).where(sa.true())  # SQLite reads ON CONFLICT after a SELECT only behind a WHERE
    rows = rows.order_by(chosen.c.key)  # rows locked in one order by every writer
    columns = (*_COLUMNS, "payload")
    return _on_conflict(on_conflict_insert(dialect, Job).from_select(columns, rows))


async def schedule_each(
    uow: UnitOfWork, kind: str, statement: Callable[[str], sa.Insert], params: dict
) -> None:
    """Run an `upsert_each` statement (`statement(dialect)`, built once by the caller; due at
    once unless `params` say when) inside the caller's transaction. The commit wakes the
    workers of `kind` only if it asked for any row: a change with no one to tell, no copy to
    redraw or no home chat costs no worker a look."""
    connection = await uow.session.connection()
    built = statement(connection.dialect.name)
    asked = await connection.execute(built, {"due_at": AT_ONCE, "payload": None, **params})
    if asked.rowcount:
        uow.changes.jobs.add(kind)


async def schedule(
    uow: UnitOfWork, kind: str, key: str, due_at: datetime, payload: str | None = None
) -> None:
    """Ask for (kind, key) to run at `due_at`, inside the caller's transaction; idempotent.
    The commit then wakes the workers of that kind (`uow.changes.jobs`).

    One row per (kind, key): asking again while it is pending keeps the earlier time; while it
    is claimed, the generation grows so the running worker leaves it pending when it finishes
    (the work runs again and sees the latest state); a finished row becomes pending again.
    `payload`: what the work needs to know of the moment it was asked for. The latest asking
    wins, also while the row is claimed: the run under way keeps its own copy, and the run that
    follows it reads the latest."""
    dialect = uow.session.bind.dialect.name  # type: ignore[union-attr]
    connection = await uow.session.connection()
    params = {"kind": kind, "key": key, "due_at": due_at, "payload": payload}
    await connection.execute(_upsert(dialect), params)
    uow.changes.jobs.add(kind)


async def finish(
    uow: UnitOfWork, job: Job, worker: str, now: datetime, *, rest_at: datetime | None = None
) -> WorkStatus | None:
    """The claim made at `job.generation` is done. Asked for again meanwhile: pending, now.
    `rest_at`: part of it could not be done yet (a busy chat's copy), pending again then.
    Returns the status the row was left in: DONE, or PENDING when it will run again. None when
    the claim was no longer this worker's (its lease ran out and another process took the row
    over): what is done only once must then be left to that process."""
    table = Job.__table__  # type: ignore[attr-defined]
    mine = sa.and_(table.c.id == job.id, table.c.claimed_by == worker)
    again = table.c.generation != job.generation
    if rest_at is None:
        status, due_at = sa.case((again, WorkStatus.PENDING), else_=WorkStatus.DONE), now
    else:
        when = table.c.due_at.type  # the column's own type, for UTC on every database
        due_at = sa.case((again, sa.literal(now, when)), else_=sa.literal(rest_at, when))
        status = WorkStatus.PENDING
    left = await uow.session.exec(
        sa.update(Job)
        .where(mine, table.c.status == WorkStatus.CLAIMED)
        .values(status=status, due_at=due_at, claimed_by=None, lease_until=None)
        .returning(table.c.status)
    )
    status_left = left.scalar_one_or_none()
    await uow.commit()
    return None if status_left is None else WorkStatus(status_left)


async def drop_pending(uow: UnitOfWork, kind: str, which: sa.ColumnElement[bool]) -> None:
    """Jobs of `kind` that are pending and match `which` are no longer wanted (what they would
    do is done by another job of the same transaction): marked done, inside the caller's
    transaction. One being worked on is left to finish."""
    table = Job.__table__  # type: ignore[attr-defined]
    await uow.session.exec(
        sa.update(Job)
        .where(table.c.kind == kind, table.c.status == WorkStatus.PENDING, which)
        .values(status=WorkStatus.DONE)
    )


async def retry_later(uow: UnitOfWork, job: Job, worker: str, when: datetime) -> None:
    """The work failed: give it back, due again at `when`, one attempt more."""
    table = Job.__table__  # type: ignore[attr-defined]
    await defer(uow, job, worker, when, job.payload, attempts=table.c.attempts + 1)


async def defer(
    uow: UnitOfWork,
    job: Job,
    worker: str,
    when: datetime,
    payload: str | None,
    *,
    attempts: object = None,
) -> None:
    """A step of the work is done and the next is due at `when` (e.g. an offer told now,
    expired at its deadline): give the row back with what the next step needs to know."""
    table = Job.__table__  # type: ignore[attr-defined]
    values: dict[str, object] = {
        "status": WorkStatus.PENDING,
        "due_at": when,
        "payload": payload,
        "claimed_by": None,
        "lease_until": None,
    }
    if attempts is not None:
        values["attempts"] = attempts
    await uow.session.exec(
        sa.update(Job).where(table.c.id == job.id, table.c.claimed_by == worker).values(**values)
    )
    await uow.commit()


# ---- the worker: alarm clock, claiming loop, heartbeat ------------------------------------


class Worker:
    """One kind of durable work in one process. Subclasses say which rows are theirs (`model`,
    and `kind` for jobs), how to do a claimed row (`process`) and which commits concern them
    (`wakes_on`); this class wakes at the right time, runs batches until nothing is due, and
    keeps its claims alive."""

    model: Any = Job  # the table whose rows carry the lease
    kind: str | None = None  # for jobs: the kind this worker does

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        worker: str | None = None,
        batch: int = 20,
        lease: timedelta = LEASE,
        poll_seconds: float = 60.0,
    ) -> None:
        self.db, self.clock = db, clock
        self.worker = worker or worker_name()
        self.batch, self.lease, self.poll_seconds = batch, lease, poll_seconds
        self.scheduler: AsyncIOScheduler | None = None
        self._lock = asyncio.Lock()
        self._running: set[asyncio.Task] = set()
        self._held: set[int] = set()  # ids of rows this worker is working on now
        self._beat: asyncio.Task | None = None
        self._listening = False
        self._poked: asyncio.Future | None = None  # the run pokes started, while it runs
        self._again = False  # poked since that run began

    # -- what subclasses provide

    def wakes_on(self, changes: Changes) -> bool:
        """Whether a commit in this process may have made work for this worker: a click's
        redraw job wakes the card refresher, not every other kind's worker too."""
        return self.kind in changes.jobs if self.kind is not None else bool(changes.jobs)

    def _mine(self) -> sa.ColumnElement[bool] | None:
        return Job.kind == self.kind if self.kind is not None else None  # type: ignore[return-value]

    async def next_due(self, uow: UnitOfWork) -> datetime | None:
        return await next_due(uow, self.model, self._mine())

    async def claim_batch(self, uow: UnitOfWork, now: datetime) -> list[Any]:
        mine = self._mine()
        return await claim(
            uow, self.model, now, self.worker, limit=self.batch, lease=self.lease, where=mine
        )

    async def process(self, rows: list[Any]) -> int:
        raise NotImplementedError

    def _changed(self, changes: Changes) -> None:
        if self.wakes_on(changes):
            self.poke()

    # -- running

    async def start(self) -> None:
        if not self._listening:
            self.db.listeners.append(self._changed)
            self._listening = True
        self.scheduler = AsyncIOScheduler(
            timezone=UTC,
            # A wake-up that runs late must still run: the rows decide what is due.
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        )
        self.scheduler.start()
        self.scheduler.add_job(
            self._wake,
            "interval",
            seconds=self.poll_seconds,
            id="poll",
            replace_existing=True,
        )
        self._beat = asyncio.create_task(self._heartbeat())
        await self.tick()

    async def stop(self) -> None:
        """Stop waking; let a job in progress finish (it may be sending) before returning. The
        scheduler is only paused meanwhile: shutting APScheduler's asyncio executor down
        cancels the jobs it is running."""
        if self._listening:
            self.db.listeners.remove(self._changed)
            self._listening = False
        if self.scheduler is not None:
            self.scheduler.pause()
            await asyncio.sleep(0)  # a job already handed to the executor starts: it counts
            await asyncio.gather(*self._running, return_exceptions=True)
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
        if self._beat is not None:
            self._beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beat
            self._beat = None

    async def _wake(self) -> None:
        """What the scheduler runs, at the next due time and every `poll_seconds`: a poke. A
        pass still under way (a long fan-out, redraws waiting on a group chat's 20 edits a
        minute) takes it as one more pass after it; run as a pass of its own, APScheduler would
        skip it while the other runs (max_instances) and log a warning each time."""
        self.poke()

    def poke(self) -> None:
        """Work was scheduled here: run what is due now and re-arm. Pokes while a run is under
        way coalesce into one more run after it, so none is lost (an APScheduler job of the same
        id would be skipped while one runs: max_instances) and a crowd's commits cost a few
        runs, not one each."""
        if self.scheduler is None:
            return
        self._again = True
        if self._poked is None or self._poked.done():
            self._poked = detached(self._drain())
            self._running.add(self._poked)  # now, not when it starts: stop() waits for it
            self._poked.add_done_callback(self._running.discard)

    async def _drain(self) -> None:
        """Passes until none was asked for during the last one."""
        while self._again:
            self._again = False
            try:
                await self.tick()
            except Exception:  # the alarm clock must keep ticking; the rows are still there
                log.exception("%s: a run failed; the next tick tries again", type(self).__name__)

    async def tick(self) -> None:
        async with self._lock:
            await self.run_due()
        await self.arm()

    async def arm(self) -> None:
        if self.scheduler is None:
            return
        async with self.db.uow(readonly=True) as uow:
            due = await self.next_due(uow)
        if due is None:
            if self.scheduler.get_job("wake"):
                self.scheduler.remove_job("wake")
            return
        delay = (due - self.clock.now()).total_seconds()
        if delay <= 0:  # due, yet not claimable just now (another process's claim holds it)
            delay = RELOOK
        run_at = datetime.now(UTC) + timedelta(seconds=delay)
        self.scheduler.add_job(
            self._wake,
            DateTrigger(run_date=run_at),
            id="wake",
            replace_existing=True,
        )

    async def run_due(self) -> int:
        """Claim and do everything due now, batch by batch; returns what `process` counted."""
        done = 0
        while True:
            async with self.db.uow() as uow:
                rows = await self.claim_batch(uow, self.clock.now())
            if not rows:
                return done
            self._held.update(row.id for row in rows)
            try:
                done += await self.process(rows)
            finally:
                self._held.difference_update(row.id for row in rows)

    async def _heartbeat(self) -> None:
        """Renew the lease of every row this worker holds, while the process lives."""
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            if not self._held:
                continue
            try:
                async with self.db.uow() as uow:
                    await renew(
                        uow, self.model, set(self._held), self.worker, self.clock.now(), self.lease
                    )
            except Exception:  # a missed beat is survivable: three fit in a lease
                log.exception("%s: renewing leases failed", type(self).__name__)
