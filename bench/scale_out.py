"""Scale-out: updates a second with 1, 2 and 3 bot processes in webhook mode, on one
PostgreSQL and one Redis.

    .venv/bin/python -m bench.scale_out [--updates 2000] [--processes 1 2 3] [--limits]

Each run starts from a fresh PostgreSQL database (on TEST_POSTGRES_URL's server), seeded with a
group of 200 members who each have a post (tests/processes/fleet.py), and N real processes of
`community-bot run` in webhook mode sharing one port (SO_REUSEPORT), with REDIS_URL set (the
shared wizard storage, per-person locks and send budget). The Telegram emulator runs in this
process and delivers updates like Telegram: 40 connections, each update POSTed until a 2xx.
Without --limits it answers at once (FAST: what the processes can handle); with --limits it
enforces Telegram's limits (30/s overall, about 1/s per private chat, edits included).

A warm-up, not timed, shows each member their own post (`/replies N`). Then the updates are
queued at once, interleaved like a crowd, and the clock stops when every update is confirmed (a
process answers Telegram's request only once the update's answer went out):
- FAST: Like clicks on those cards (a write and a callback answer each; the cards' redraws go
  through the shared budget in the background): what the processes can handle. Messages would
  measure the budget instead: every process takes its sends from one shared 24 a second.
- --limits: `/reply <own post> <text>` (a write and one message each), the emulator enforcing
  Telegram's limits: the shared budget at work.
Printed per N: updates a second beside N=1's (the baseline, same run) and the ratio; with
--limits also messages sent a second beside Telegram's 30, and 429s. Every update is checked to
be applied exactly once (the replies' rows; the likes' parity). A measurement, not a test: the
exit status is 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import func, select

from bench import report
from core.db import Database
from core.models import Comment, Like
from tests.emulators.telegram import TelegramEmulator
from tests.processes.fleet import (
    bot_env,
    free_port,
    kill,
    seed_community,
    start_bot,
    until,
    webhook_env,
)
from tests.support import REDIS_URL, create_postgres_database, drop_postgres_database

MEMBERS = 200


@dataclass
class Run:
    processes: int
    updates: int
    seconds: float
    sends: int
    throttled: int
    applied: int

    @property
    def rate(self) -> float:
        return self.updates / self.seconds


async def run(processes: int, updates: int, limits: bool) -> Run:
    url = create_postgres_database()
    if url is None:
        raise SystemExit("no PostgreSQL server answered (TEST_POSTGRES_URL)")
    db = Database(url)
    try:
        await db.migrate()
        posts = await seed_community(db, datetime.now(UTC), MEMBERS)
        return await _measure(db, posts, processes, updates, limits)
    finally:
        await db.dispose()
        drop_postgres_database(url)


async def _measure(
    db: Database, posts: dict[int, int], processes: int, updates: int, limits: bool
) -> Run:
    port = free_port()
    token = f"{random.randrange(10**8, 10**9)}:BENCH"  # its own keys in the shared Redis
    async with TelegramEmulator() as emu:
        for n in range(1, MEMBERS + 1):
            emu.add_user(n, f"Member {n}")
        env = bot_env(db.url, emu.base_url, token=token, REDIS_URL=REDIS_URL, **webhook_env(port))
        bots = [await start_bot(env) for _ in range(processes)]
        try:
            if not await until(lambda: bool(emu.webhook_url), 60):
                raise SystemExit("the webhook was never set")
            await asyncio.sleep(3)  # every process listening on the port
            for n in range(1, MEMBERS + 1):  # each member's own post, with its Like button
                emu.send_message(n, f"/replies {posts[n]}")
            if not await until(lambda: not emu.pending, 300, every=0.1):
                raise SystemExit("the warm-up was never handled")
            await asyncio.sleep(2)
            cards = {n: emu.messages(n)[-1] for n in range(1, MEMBERS + 1)}
            if limits:
                emu.limit_like_telegram()
            sent_before, throttled_before = len(emu.calls_of("sendMessage")), len(emu.throttles)
            started = time.perf_counter()
            for turn in range(updates // MEMBERS + 1):
                for n in range(1, MEMBERS + 1):
                    if turn * MEMBERS + n > updates:
                        continue
                    if limits:  # a write and a message each, paced by the shared budget
                        emu.send_message(n, f"/reply {posts[n]} bench-{n}-{turn}")
                    else:  # a write and a callback answer each: what handling costs
                        emu.click(n, cards[n], emu.find_button(cards[n], "♡")[1])
            if not await until(lambda: not emu.pending, 1800, every=0.05):
                raise SystemExit("the updates were never all handled")
            seconds = time.perf_counter() - started
            sends = sum(1 for c in emu.calls_of("sendMessage")[sent_before:] if c.ok)
            throttled = len(emu.throttles) - throttled_before
        finally:
            for bot in bots:
                await kill(bot)
    async with db.uow(readonly=True) as uow:
        if limits:
            applied = (await uow.session.exec(select(func.count()).select_from(Comment))).one()
        else:  # every click toggles its person's like: applied once each iff the parity holds
            likes = (await uow.session.exec(select(func.count()).select_from(Like))).one()
            clicks = [updates // MEMBERS + (1 if n <= updates % MEMBERS else 0) for n in posts]
            applied = updates if likes == sum(c % 2 for c in clicks) else -1
    return Run(processes, updates, seconds, sends, throttled, applied)


def print_table(runs: list[Run], limits: bool) -> None:
    base = runs[0].rate
    print()
    print(f"webhook processes on PostgreSQL + Redis, {'Telegram limits' if limits else 'FAST'}")
    cells = ["processes", "updates", "seconds", "updates/s", "baseline/s", "ratio", "applied"]
    if limits:
        cells += ["sends/s", "limit/s", "429s"]
    widths = [max(9, len(c)) for c in cells]
    print(report.row(cells, widths))
    for r in runs:
        line = [
            str(r.processes),
            str(r.updates),
            f"{r.seconds:.1f}",
            f"{r.rate:.1f}",
            f"{base:.1f}",
            f"{r.rate / base:.2f}",
            f"{r.applied}/{r.updates}",
        ]
        if limits:
            line += [f"{r.sends / r.seconds:.1f}", "30", str(r.throttled)]
        print(report.row(line, widths))


async def main(options: argparse.Namespace) -> None:
    runs = []
    for processes in options.processes:
        runs.append(await run(processes, options.updates, options.limits))
        print(f"{processes} process(es): {runs[-1].rate:.1f} updates/s", flush=True)
    print_table(runs, options.limits)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=2000, help="timed updates per run")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--limits", action="store_true", help="the emulator enforces the limits")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
