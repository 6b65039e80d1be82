"""Scale-out under a crash (#14): three real bot processes in webhook mode on one PostgreSQL and
one Redis, one port (SO_REUSEPORT), the Telegram emulator enforcing Telegram's limits and
delivering 2,000 updates like Telegram (40 connections, a non-2xx or a dropped connection is
retried). One process is SIGKILLed in the middle, while a 500-person reminder fan-out runs.

Afterwards: every update applied exactly once (each reply is a row, so a second application
would show), every wizard finished exactly once on another process, every reminder sent at
most once and all of them but the sends in flight at the kill, no answer sent twice, no more
than a handful of 429s from the emulator (the budget is shared in Redis), and no card copy left
stale. Answers lost with the killed process (the updates it was handling at the kill) are
counted and bounded by its webhook connections.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import func, select

from core.db import Database
from core.models import Comment, Event, Job, Registration
from core.services import reminders
from tests.emulators.telegram import TelegramEmulator
from tests.processes.fleet import (
    bot_env,
    free_port,
    kill,
    seed_attendees,
    seed_group,
    seed_members,
    start_bot,
    until,
    webhook_env,
)
from tests.support import REDIS_URL

LOGS = Path(os.environ.get("SCALE_OUT_LOGS", "/tmp"))
PROCESSES = 3
MEMBERS = 200  # Telegram users 1..200, each with a post of their own
WIZARDS = 20  # users 1..20 create an activity step by step (8 updates), then reply twice
VIEWERS = 50  # users 21..70 open activity 2's card and sign up, then reply 8 times
ATTENDEES = 500  # Telegram users 5001..5500, due a reminder of activity 1 mid-run
FIRST_ATTENDEE = 5001
UPDATES = 2000
THROTTLES_SEEN = 5  # 429s tolerated in the run (see the assertion); measured: 0
KILL_AFTER = 700  # replies applied before one process is killed
REMINDER_IN = timedelta(seconds=25)  # from seeding to the reminder fan-out
WIZARD_STEPS = ["/newevent", "hiking", "Walk {u}", "2027-01-10 10:00", "Meadow {u}", "free", "8"]


async def _seed(db: Database, now: datetime) -> dict[int, int]:
    """The group, its members with a post each, activity 1 with 500 attendees due a reminder
    REMINDER_IN from now, activity 2 (no limit) for the card viewers."""
    async with db.uow() as uow:
        maya, group = await seed_group(uow, now, members_can_create_events=True)
        ridge = Event(
            group_id=group.id,
            creator_id=maya.id,
            title="Ridge walk",
            starts_at=now + timedelta(minutes=10) + REMINDER_IN,
            timezone="UTC",
            place="Trailhead",
            reminder_offsets="10m",
            created_at=now,
            going=ATTENDEES,
        )  # type: ignore[arg-type]
        lake = Event(
            group_id=group.id,
            creator_id=maya.id,
            title="Lake loop",
            starts_at=now + timedelta(days=3),
            timezone="UTC",
            place="Lakeside",
            reminder_offsets="",
            created_at=now,
        )  # type: ignore[arg-type]
        uow.session.add_all([ridge, lake])
        await uow.session.flush()
        posts = await seed_members(uow, group, now, MEMBERS)
        await seed_attendees(uow, ridge, now, FIRST_ATTENDEE, ATTENDEES)
        await reminders.schedule_event(uow, ridge, now)
        await uow.commit()
    return posts


def _log_file(port: int):
    """Each process's stderr, kept for a failed run (SCALE_OUT_LOGS, default /tmp)."""
    return open(LOGS / f"bot-{port}-{random.randrange(10**6)}.log", "w")


async def _start(db_url: str, emu: TelegramEmulator, port: int, token: str):
    env = bot_env(db_url, emu.base_url, token=token, REDIS_URL=REDIS_URL, **webhook_env(port))
    return await start_bot(env, _log_file(port))


def _texts(emu: TelegramEmulator, chat: int) -> list[str]:
    return [m["plain"] or "" for m in emu.messages(chat)]


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
async def test_three_webhook_processes_survive_a_kill(db: Database) -> None:
    now = datetime.now(UTC)
    posts = await _seed(db, now)
    port = free_port()
    token = f"{random.randrange(10**8, 10**9)}:TEST"  # its own keys in the shared Redis
    async with TelegramEmulator() as emu:
        emu.limit_like_telegram()
        for n in range(1, MEMBERS + 1):
            emu.add_user(n, f"Member {n}")
        for n in range(ATTENDEES):
            emu.add_user(FIRST_ATTENDEE + n, f"Hiker {n}")
        bots = [await _start(db.url, emu, port, token) for _ in range(PROCESSES)]
        try:
            assert await until(lambda: bool(emu.webhook_url), 60), "the webhook was never set"
            await asyncio.sleep(3)  # every process listening on the port

            # the crowd: replies from everyone, card views and sign-ups, all queued at once
            replies: list[str] = []
            plans: list[list[str]] = []  # each person's updates, sent interleaved like a crowd
            for u in range(WIZARDS + 1, MEMBERS + 1):
                plan = ["/event 2", "/signup 2"] if u <= WIZARDS + VIEWERS else []
                for k in range(10 - len(plan)):
                    replies.append(f"r-{u}-{k}")
                    plan.append(f"/reply {posts[u]} r-{u}-{k}")
                plans.append([str(u), *plan])
            for turn in range(1, 11):
                for plan in plans:
                    emu.send_message(int(plan[0]), plan[turn])

            async def wizard(u: int) -> None:
                """A person at the keyboard: each answer after the bot's last question."""
                for step in [*WIZARD_STEPS, "✅ Create"]:
                    seen = len(emu.messages(u))
                    emu.send_message(u, step.format(u=u))
                    answered = await until(lambda seen=seen: len(emu.messages(u)) > seen, 120, 0.25)
                    assert answered, f"user {u} waited 2 minutes for an answer to {step!r}"
                    await asyncio.sleep(random.uniform(0, 0.5))
                for k in range(2):
                    body = f"r-{u}-w{k}"
                    replies.append(body)
                    emu.send_message(u, f"/reply {posts[u]} {body}")

            wizards = asyncio.gather(*(wizard(u) for u in range(1, WIZARDS + 1)))

            async def applied() -> int:
                async with db.uow(readonly=True) as uow:
                    return (await uow.session.exec(select(func.count()).select_from(Comment))).one()

            for _ in range(3000):  # the database is in another process: poll it
                if await applied() >= KILL_AFTER:
                    break
                await asyncio.sleep(0.2)
            await kill(bots[0])  # mid-crowd, mid-fan-out, mid-wizards
            reminded_at_kill = _reminded(emu)

            await asyncio.wait_for(wizards, 240)
            assert await until(lambda: not emu.pending, 240, every=0.5), "updates never delivered"
            assert await until(lambda: len(_reminded(emu)) >= ATTENDEES - 40, 120, every=1.0)
            await asyncio.sleep(5)  # late duplicates and card redraws would land now
        finally:
            for bot in bots:
                await kill(bot)

        async with db.uow(readonly=True) as uow:
            bodies = (await uow.session.exec(select(Comment.body))).all()
            walks = (
                await uow.session.exec(select(Event.title).where(Event.title.like("Walk %")))  # type: ignore[attr-defined]
            ).all()
            signed = (
                await uow.session.exec(
                    select(func.count()).select_from(Registration).where(Registration.event_id == 2)
                )
            ).one()
            stale = (
                await uow.session.exec(
                    select(func.count())
                    .select_from(Job)
                    .where(Job.kind == "cards", Job.status != "done")
                    .where(Job.due_at <= datetime.now(UTC))  # not the one due at the start
                )
            ).one()

        # every update applied exactly once
        missing = set(replies) - set(bodies)
        for body in sorted(missing)[:5]:
            chat = int(body.split("-")[1])
            print(body, "→", [t[:80] for t in _texts(emu, chat)][-12:])
        assert sorted(bodies) == sorted(replies), (
            f"replies lost or applied twice: {sorted(missing)}"
        )
        assert sorted(walks) == sorted(f"Walk {u}" for u in range(1, WIZARDS + 1))
        assert signed == VIEWERS

        # answers: none twice; the ones lost went down with the killed process
        answered: dict[str, int] = {}  # a reply's answer lists the replies so far, its own last
        for u in range(1, MEMBERS + 1):
            for text in _texts(emu, u):
                if "Reply with /reply" in text:
                    own = re.findall(r"r-\d+-w?\d+", text)[-1]
                    answered[own] = answered.get(own, 0) + 1
        assert all(n == 1 for n in answered.values()), "an answer was sent twice"
        lost = [b for b in replies if b not in answered]
        print(f"answers lost with the killed process: {len(lost)} of {len(replies)}")
        assert len(lost) <= emu.WEBHOOK_CONNECTIONS

        created = [t for u in range(1, WIZARDS + 1) for t in _texts(emu, u) if "created" in t]
        assert len(created) <= WIZARDS

        # reminders: once each, all but the sends in flight at the kill
        reminded = _reminded(emu)
        assert all(count == 1 for count in reminded.values()), "someone was reminded twice"
        print(f"reminders: {len(reminded)}/{ATTENDEES} (at the kill {len(reminded_at_kill)})")
        assert ATTENDEES - len(reminded) <= PROCESSES

        # the budget is shared: Telegram never said 429. A handful is tolerated, for a CI machine
        # far busier than ours: evenly spaced sends stay within 30 a second unless delayed by a
        # fifth of a second (0 in every run measured since; with per-second windows, 0 to 2)
        print(f"429s: {len(emu.throttles)}")
        assert len(emu.throttles) <= THROTTLES_SEEN, f"{len(emu.throttles)} calls drew a 429"

        # no card copy left stale: every viewer's card shows the final count
        assert stale == 0
        for u in range(WIZARDS + 1, WIZARDS + VIEWERS + 1):
            cards = [t for t in _texts(emu, u) if "Lake loop" in t]
            assert cards and f"{VIEWERS} going" in cards[-1], f"user {u}: {cards[-1:]}"


def _reminded(emu: TelegramEmulator) -> dict[int, int]:
    counts: dict[int, int] = {}
    for call in emu.calls_of("sendMessage"):
        chat = int(call.params.get("chat_id", 0))
        if call.ok and chat >= FIRST_ATTENDEE and "Ridge walk" in str(call.params.get("text", "")):
            counts[chat] = counts.get(chat, 0) + 1
    return counts
