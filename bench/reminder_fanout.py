"""Reminder fan-out: one activity, N attendees, a Telegram emulator that enforces a rate limit.

    .venv/bin/python -m bench.reminder_fanout [--attendees 5000] [--limit 30]
                                              [--database-url postgresql+asyncpg://...]
                                              [--profile FILE] [--top 25]

Setup (not timed): a fresh database (a SQLite file in a temp dir, or with --database-url a
scratch PostgreSQL database created on that server and dropped afterwards), N people each with
a Telegram identity whose external_id is their emulator user id (people.resolve_actor with
private_chat=True, so the bot may write to them), one public group everyone joins, one activity
without a capacity or coordinates (one sendMessage per reminder) with a single 1-hour reminder,
and everyone signed up; all through the services, with create_event writing the reminder row.

The emulator enforces `--limit` sends/s overall and 1/s per chat over sliding one-second windows,
answering 429 with retry_after=1 beyond that; the product's Bot is built as deployed,
`build_bot(token, emu.base_url, pacer=Pacer(per_second=limit))`, whose PacingMiddleware also
waits out 429s, and registered as services.notifiers["telegram"].

Timed: the FrozenClock is set to the reminder's due time, then `await ReminderRunner(services)
.run_due()`, nothing else.  Achieved rate = reminders delivered (the emulator's record: private
messages whose text contains "Reminder") / elapsed; ratio = rate / limit (target >= 0.95).
Duplicates: chats that received the reminder more than once (target 0); losses: attendees who
received none (target 0); also the 429s the emulator gave and early retries (calls made before a
429's retry_after had passed, target 0).  `--limit 0` switches every limit off (emulator and
pacer) to show the ceiling of our own per-message cost.

The emulator runs on the same event loop, so its request handling shares the CPU with the bot;
the time breakdown (wrappers around the runner's `_deliver`, the pacer's `acquire` and the
notifier's `send`; they only read a clock) says where the time went.  `--profile FILE` runs the
fan-out under cProfile and prints the top functions.  A measurement, not a test: the exit
status is 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import io
import logging
import os
import pstats
import resource
import secrets
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import select

from adapters.telegram.app import build_bot
from adapters.telegram.notifier import TelegramNotifier
from adapters.telegram.pacing import Pacer
from core.chat import Services
from core.clock import FrozenClock
from core.db import Database, run_on_server
from core.models import Delivery, Reminder
from core.scheduler import ReminderRunner
from core.services import events, groups, people
from core.services.events import EventDraft
from core.settings import Settings
from tests.emulators.telegram import EmuUser, TelegramEmulator

RATIO_TARGET = 0.95
RETRY_AFTER = 1  # seconds, what the emulator answers a send over the limit with
START = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
STARTS = START + timedelta(days=3)
OFFSET = timedelta(hours=1)
FIRST_USER_ID = 100_000
CHUNK = 500  # service calls per unit of work during setup
UNLIMITED = 1_000_000  # pacer rates for --limit 0


# --------------------------------------------------------------------------------------------
# A fresh database


@asynccontextmanager
async def scratch_database(url: str | None) -> AsyncIterator[tuple[Database, str]]:
    """A migrated, empty database and a description of it; removed afterwards."""
    if url is None:
        with tempfile.TemporaryDirectory(prefix="bench-fanout-") as workdir:
            db = Database(f"sqlite+aiosqlite:///{Path(workdir) / 'bench.db'}")
            try:
                await db.migrate()
                yield db, "SQLite file in a temp dir (WAL, synchronous=NORMAL)"
            finally:
                await db.dispose()
        return
    name = f"bench_fanout_{secrets.token_hex(4)}"
    await run_on_server(url, f'CREATE DATABASE "{name}"')
    scratch = make_url(url).set(database=name)
    db = Database(scratch.render_as_string(hide_password=False))
    try:
        await db.migrate()
        yield db, f"PostgreSQL scratch database {name} on {scratch.host}:{scratch.port or 5432}"
    finally:
        await db.dispose()
        await run_on_server(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --------------------------------------------------------------------------------------------
# Setup (not timed)


@dataclass
class Community:
    users: list[EmuUser]
    event_id: int
    due_at: datetime
    seconds: float


async def populate(services: Services, emu: TelegramEmulator, attendees: int) -> Community:
    """N people on Telegram, one group they all join, one activity they all sign up for."""
    started = time.perf_counter()
    db, clock = services.db, services.clock
    users = [emu.add_user(FIRST_USER_ID + i, f"Member {i}") for i in range(attendees)]
    person_ids: list[int] = []
    for chunk in _chunks(users):
        async with db.uow() as uow:
            for user in chunk:
                actor = await people.resolve_actor(
                    uow,
                    clock,
                    platform="telegram",
                    external_id=str(user.id),
                    display_name=user.first_name,
                    private_chat=True,
                )
                person_ids.append(actor.person_id)
    organizer = person_ids[0]
    async with db.uow() as uow:
        group = await groups.create_group(
            uow, clock, organizer, name="Bench Hikers", description="Reminder fan-out"
        )
        draft = EventDraft(
            title="Ridge walk",
            starts_at=STARTS,
            place="Trailhead car park",
            capacity=None,
            reminder_offsets=[OFFSET],
        )
        view = await events.create_event(uow, clock, organizer, group.slug, draft)
    event_id = view.event.id
    assert event_id is not None
    for chunk in _chunks(person_ids[1:]):
        async with db.uow() as uow:
            for person_id in chunk:
                await groups.join_group(uow, clock, person_id, group.slug)
    for chunk in _chunks(person_ids):
        async with db.uow() as uow:
            for person_id in chunk:
                result = await events.sign_up(uow, clock, person_id, event_id)
                assert result.status == "confirmed", result.status
    async with db.uow(readonly=True) as uow:
        rows = (await uow.session.exec(select(Reminder).where(Reminder.event_id == event_id))).all()
    assert len(rows) == 1, f"expected one reminder row, create_event wrote {len(rows)}"
    return Community(users, event_id, rows[0].due_at, time.perf_counter() - started)


def _chunks(items: list[Any]) -> list[list[Any]]:
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


# --------------------------------------------------------------------------------------------
# The timed fan-out


@dataclass
class Stopwatch:
    """Wall time spent inside one awaited callable, summed over calls."""

    seconds: float = 0.0
    calls: int = 0

    def wrap(self, target: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(target)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await target(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
                self.calls += 1

        return timed


@dataclass
class Fanout:
    elapsed: float
    returned: int
    deliver: Stopwatch
    send: Stopwatch
    pacer: Stopwatch
    t0: float
    profile: cProfile.Profile | None = None
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before and after


async def fan_out(services: Services, bot_pacer: Pacer, due_at: datetime, profile: bool) -> Fanout:
    assert isinstance(services.clock, FrozenClock)
    services.clock.set(due_at)
    runner = ReminderRunner(services)
    deliver, send, pacer = Stopwatch(), Stopwatch(), Stopwatch()
    runner._deliver = deliver.wrap(runner._deliver)  # type: ignore[method-assign]
    notifier = services.notifiers["telegram"]
    notifier.send = send.wrap(notifier.send)  # type: ignore[method-assign]
    bot_pacer.acquire = pacer.wrap(bot_pacer.acquire)  # type: ignore[method-assign]
    profiler = cProfile.Profile() if profile else None
    t0 = time.monotonic()  # the emulator's clock, so call times compare
    if profiler is not None:
        profiler.enable()
    returned = await runner.run_due()
    if profiler is not None:
        profiler.disable()
    t1 = time.monotonic()
    return Fanout(t1 - t0, returned, deliver, send, pacer, t0, profiler)


# --------------------------------------------------------------------------------------------
# Checking and reporting


@dataclass
class Outcome:
    delivered: int
    duplicates: int
    extra_messages: int
    losses: int
    throttles: Counter[str]
    early_retries: int
    throttle_times: list[float]
    first_send: float | None
    last_send: float | None
    busiest_second: int
    db_statuses: dict[str, int] = field(default_factory=dict)
    reminder_status: str = ""


async def check(
    services: Services, emu: TelegramEmulator, community: Community, run: Fanout
) -> Outcome:
    per_chat = [
        sum(1 for m in emu.messages(user.id) if "Reminder" in (m["plain"] or ""))
        for user in community.users
    ]
    sends = [
        call.time
        for call in emu.calls_of("sendMessage")
        if call.ok and call.time >= run.t0 and "Reminder" in str(call.params.get("text", ""))
    ]
    async with services.db.uow(readonly=True) as uow:
        statuses = dict(
            (
                await uow.session.exec(
                    select(Delivery.status, sa.func.count())
                    .where(Delivery.event_id == community.event_id)
                    .group_by(Delivery.status)
                )
            ).all()
        )
        reminder = (
            await uow.session.exec(select(Reminder).where(Reminder.event_id == community.event_id))
        ).one()
    return Outcome(
        delivered=sum(per_chat),
        duplicates=sum(1 for n in per_chat if n > 1),
        extra_messages=sum(n - 1 for n in per_chat if n > 1),
        losses=sum(1 for n in per_chat if n == 0),
        throttles=Counter(t.reason for t in emu.throttles),
        early_retries=len(emu.early_retries),
        throttle_times=[t.at - run.t0 for t in emu.throttles],
        busiest_second=_busiest_window(sorted(sends)),
        first_send=min(sends) - run.t0 if sends else None,
        last_send=max(sends) - run.t0 if sends else None,
        db_statuses={str(k): v for k, v in statuses.items()},
        reminder_status=str(reminder.status),
    )


def _busiest_window(times: list[float]) -> int:
    """Most accepted sends in any sliding one-second window, counted the emulator's way."""
    best, left = 0, 0
    for right, now in enumerate(times):
        while times[left] <= now - 1.0:
            left += 1
        best = max(best, right - left + 1)
    return best


def _verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


def _table(rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        pairs = enumerate(zip(row, widths, strict=True))
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in pairs]
        print("  ".join(cells).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def report(options: argparse.Namespace, where: str, community: Community, run: Fanout, o: Outcome):
    limit, n = options.limit, options.attendees
    rate = o.delivered / run.elapsed if run.elapsed else 0.0
    ratio = rate / limit if limit else None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    total_429 = sum(o.throttles.values())
    print()
    rows = [
        ["metric", "value", "target", "result"],
        ["attendees", f"{n:,}", "", ""],
        ["limit (msg/s)", f"{limit:,}" if limit else "none", "", ""],
        ["elapsed (s)", f"{run.elapsed:.2f}", "", ""],
        ["delivered", f"{o.delivered:,}", f"{n:,}", ""],
        ["achieved msg/s", f"{rate:.2f}", "", ""],
        [
            "ratio vs limit",
            f"{ratio:.3f}" if ratio is not None else "n/a",
            f">= {RATIO_TARGET}",
            _verdict(ratio >= RATIO_TARGET) if ratio is not None else "n/a",
        ],
        ["duplicates", f"{o.duplicates:,}", "0", _verdict(o.duplicates == 0)],
        ["losses", f"{o.losses:,}", "0", _verdict(o.losses == 0)],
        ["429s received", f"{total_429:,}", "", ""],
        ["early retries", f"{o.early_retries:,}", "0", _verdict(o.early_retries == 0)],
        ["peak RSS (MiB, process)", f"{peak:,.0f}", "", ""],
    ]
    _table(rows)
    print()
    print("details")
    print(f"  database: {where}; setup {community.seconds:.1f} s (not timed)")
    print(
        f"  machine: {os.cpu_count()} CPUs; 1-minute load average {run.load[0]:.2f} before the "
        f"fan-out, {run.load[1]:.2f} after (other processes share the CPUs)"
    )
    print(f"  run_due() returned {run.returned:,}; delivery rows by status: {o.db_statuses}")
    print(f"  reminder row status after the run: {o.reminder_status}")
    if o.extra_messages:
        print(f"  duplicate reminder messages beyond the first: {o.extra_messages:,}")
    if o.first_send is not None and o.last_send is not None and o.delivered > 1:
        span = o.last_send - o.first_send
        steady = (o.delivered - 1) / span if span > 0 else float("nan")
        print(
            f"  first delivery at +{o.first_send * 1000:.1f} ms, last at +{o.last_send:.2f} s; "
            f"rate between them {steady:.2f} msg/s; busiest 1 s window {o.busiest_second} sends"
        )
    if total_429:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(o.throttles.items()))
        shown = ", ".join(f"{t:.2f}" for t in o.throttle_times[:12])
        more = " ..." if len(o.throttle_times) > 12 else ""
        print(f"  429s by reason: {reasons}; at +s: {shown}{more}")
    per = 1000 / max(o.delivered, 1)
    backoff = total_429 * (RETRY_AFTER + 0.05)
    db_loop = run.elapsed - run.deliver.seconds
    lookup_render = run.deliver.seconds - run.send.seconds
    http = run.send.seconds - run.pacer.seconds - backoff
    print("  where the time went (ms per delivered message, wall time, sequential):")
    parts = [
        ("record + mark (2 write transactions) and the loop", db_loop),
        ("recipient lookup + reminder card", lookup_render),
        ("pacer wait (incl. sleeping for a token)", run.pacer.seconds),
        ("429 back-off sleeps (PacingMiddleware holds, est.)", backoff),
        ("sendMessage over HTTP (aiogram + emulator)", http),
    ]
    width = max(len(label) for label, _ in parts)
    for label, seconds in parts:
        print(f"    {label.ljust(width)}  {seconds * per:7.2f}")
    busy = run.elapsed - run.pacer.seconds - backoff
    print(
        f"    {'= busy time (all but pacer and back-off)'.ljust(width)}  {busy * per:7.2f}"
        f"  -> own ceiling ~{o.delivered / busy if busy > 0 else float('nan'):,.0f} msg/s"
    )
    print()
    print("verdict")
    if ratio is not None:
        print(
            f"  rate {rate:.2f} msg/s = {ratio:.3f} of the {limit} msg/s limit: "
            f"target >= {RATIO_TARGET} {_verdict(ratio >= RATIO_TARGET)}"
        )
    else:
        print(f"  no limit: {rate:.2f} msg/s is the ceiling of the stack (no ratio target)")
    print(f"  duplicates {o.duplicates}: target 0 {_verdict(o.duplicates == 0)}")
    print(f"  losses {o.losses}: target 0 {_verdict(o.losses == 0)}")
    print(f"  early retries {o.early_retries}: target 0 {_verdict(o.early_retries == 0)}")


def print_profile(profiler: cProfile.Profile, path: str, top: int) -> None:
    profiler.dump_stats(path)
    for key in ("tottime", "cumulative"):
        buffer = io.StringIO()
        stats = pstats.Stats(profiler, stream=buffer)
        stats.strip_dirs().sort_stats(key).print_stats(top)
        text = buffer.getvalue()
        start = text.find("   ncalls")
        print(f"\ncProfile, top {top} by {key} (full stats in {path}):")
        print(text[start:].rstrip() if start >= 0 else text.rstrip())


# --------------------------------------------------------------------------------------------
# Main


async def main(options: argparse.Namespace) -> None:
    limit = options.limit
    pacer = (
        Pacer(per_second=limit)
        if limit
        else Pacer(
            per_second=UNLIMITED,
            per_chat_per_second=UNLIMITED,
            chat_burst=UNLIMITED,
            group_per_minute=UNLIMITED,
        )
    )
    print(
        f"Reminder fan-out: {options.attendees:,} attendees of one activity, one sendMessage "
        "each; "
        + (
            f"emulator limit {limit}/s overall and 1/s per chat (sliding 1 s windows, "
            f"429 retry_after={RETRY_AFTER}); product Pacer(per_second={limit}): at most "
            f"{pacer.overall.limit} completed sends a second overall, per chat "
            f"{pacer.per_chat_per_second:g}/s burst {pacer.chat_burst:g}"
            if limit
            else "no limits (emulator and pacer off): the ceiling of our own per-message cost"
        ),
        flush=True,
    )
    async with (
        scratch_database(options.database_url) as (db, where),
        TelegramEmulator() as emu,
    ):
        url = db.url
        settings = Settings(_env_file=None, database_url=url, seed_demo=False)
        services = Services(db=db, clock=FrozenClock(START), settings=settings)
        print(f"setting up ({where}) ...", flush=True)
        community = await populate(services, emu, options.attendees)
        print(f"setup done in {community.seconds:.1f} s; firing ...", flush=True)
        if limit:
            emu.rate_limit(global_per_second=limit, per_chat_per_second=1, retry_after=RETRY_AFTER)
        bot = build_bot("42:TEST", emu.base_url, pacer=pacer)
        try:
            services.notifiers["telegram"] = TelegramNotifier(bot)
            load_before = os.getloadavg()[0]
            run = await fan_out(services, pacer, community.due_at, bool(options.profile))
            run.load = (load_before, os.getloadavg()[0])
            outcome = await check(services, emu, community, run)
        finally:
            await bot.session.close()
    report(options, where, community, run, outcome)
    if run.profile is not None:
        print_profile(run.profile, options.profile, options.top)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.reminder_fanout", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--attendees", type=int, default=5000, help="people signed up")
    parser.add_argument(
        "--limit",
        type=int,
        default=30,
        help="messages/s the emulator enforces and the pacer is set to (0: no limits)",
    )
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server (postgresql+asyncpg://user@host:port/db) to create a scratch "
        "database on; default: a SQLite file in a temp dir",
    )
    parser.add_argument("--profile", metavar="FILE", help="run the fan-out under cProfile")
    parser.add_argument("--top", type=int, default=25, help="functions shown with --profile")
    options = parser.parse_args(argv)
    if options.attendees < 1 or options.limit < 0:
        parser.error("--attendees must be positive and --limit not negative")
    if options.database_url and not options.database_url.startswith("postgresql"):
        parser.error("--database-url must be a postgresql URL (SQLite uses a temp file)")
    return options


if __name__ == "__main__":
    # The emulator's 429s are counted in the table; the per-429 retry warning is noise here.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("adapters.telegram.middlewares").setLevel(logging.ERROR)
    asyncio.run(main(parse_args()))
    sys.exit(0)
