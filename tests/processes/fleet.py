"""Real bot processes against the Telegram emulator, for the multi-process tests and for
bench/scale_out.py: the environment one is started with, starting and killing them, a port
they can share, waiting on what the emulator saw, and the community they are started on
(seeded straight into the database, so the measured updates are the only ones)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO

from core.db import Database
from core.models import Event, Group, Identity, Membership, Person, Post, Registration
from core.uow import UnitOfWork
from tests.emulators.telegram import TelegramEmulator

ROOT = Path(__file__).resolve().parents[2]
HOOK_PATH = "/telegram/hook"
SECRET = "s3cret"


def bot_env(db_url: str, api_base: str, *, token: str = "42:TEST", **extra: str) -> dict[str, str]:
    """A bot process's environment: this database, the emulator, no demo data; `extra` adds
    or overrides settings (REDIS_URL and WEB_PORT are dropped unless given)."""
    inherited = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "WEB_PORT")}
    return {
        **inherited,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": db_url,
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_BASE": api_base,
        "SEED_DEMO": "false",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def webhook_env(port: int) -> dict[str, str]:
    """The settings of webhook mode on this port of 127.0.0.1."""
    return {
        "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}{HOOK_PATH}",
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "WEB_PORT": str(port),
    }


async def start_bot(
    env: dict[str, str], log: IO[str] | None = None, *, role: str = "all"
) -> asyncio.subprocess.Process:
    """`community-bot run --role ROLE` as its own process group (so a SIGKILL takes all of
    it)."""
    return await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bots", "run", "--role", role),
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stderr=log,
    )


async def kill(bot: asyncio.subprocess.Process) -> None:
    """SIGKILL: no chance to clean up, like a crash or the OOM killer."""
    if bot.returncode is None:
        os.killpg(bot.pid, signal.SIGKILL)
    await bot.wait()


async def stop(bot: asyncio.subprocess.Process) -> None:
    """SIGTERM, as a deployment stops it; SIGKILL if it has not exited within 15 seconds."""
    bot.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(bot.wait(), 15)
    except TimeoutError:
        await kill(bot)


async def kill_midway_and_restart(
    env: dict[str, str],
    sent: Callable[[], dict[int, int]],
    expected: int,
    within: float,
    start: Callable[[], object] = lambda: None,
) -> tuple[bool, int, bool]:
    """Start the bot and `start` its work; SIGKILL it once `sent()` counts three chats; start
    it again and wait up to `within` seconds for `expected` chats, then a second more (what is
    sent twice would arrive then). Returns whether the work started, the chats reached at the
    kill, and whether the restarted bot reached `expected`."""
    bot = await start_bot(env)
    try:
        start()
        started = await until(lambda: len(sent()) >= 3, 60)
    finally:
        await kill(bot)  # in the middle of the work, no chance to clean up
    at_kill = len(sent())
    if not started:
        return False, at_kill, False
    restarted = await start_bot(env)
    try:
        done = await until(lambda: len(sent()) >= expected, within)
        await asyncio.sleep(1)
    finally:
        await stop(restarted)
    return True, at_kill, done


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sent_per_chat(emu: TelegramEmulator, containing: str, from_chat: int) -> dict[int, int]:
    """How many messages containing `containing` each chat from `from_chat` on received."""
    counts: dict[int, int] = {}
    for call in emu.calls_of("sendMessage"):
        chat = int(call.params.get("chat_id", 0))
        if call.ok and chat >= from_chat and containing in str(call.params.get("text", "")):
            counts[chat] = counts.get(chat, 0) + 1
    return counts


async def until(condition: Callable[[], bool], seconds: float, every: float = 0.02) -> bool:
    """Whether `condition()` came true within `seconds`, looking `every` seconds (the emulator
    shares this event loop: a costly condition looked at often delays its answers)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(every)
    return condition()


async def seed_group(uow: UnitOfWork, now: datetime, **options: object) -> tuple[Person, Group]:
    """Maya and her group Hiking (UTC); `options` set the group's other fields."""
    session = uow.session
    maya = Person(display_name="Maya", created_at=now)
    session.add(maya)
    await session.flush()
    group = Group(
        slug="hiking", name="Hiking", timezone="UTC", created_by=maya.id, created_at=now, **options
    )  # type: ignore[arg-type]
    session.add(group)
    await session.flush()
    session.add(
        Membership(
            group_id=group.id, person_id=maya.id, role="owner", status="active", created_at=now
        )  # type: ignore[arg-type]
    )
    return maya, group


async def seed_event(
    uow: UnitOfWork, maya: Person, group: Group, now: datetime, **fields: object
) -> Event:
    """An activity of Maya's in the group: the Ridge walk at the Trailhead, in UTC, unless
    `fields` say otherwise (`starts_at` they must give)."""
    defaults: dict[str, object] = {"title": "Ridge walk", "place": "Trailhead", "timezone": "UTC"}
    event = Event(
        group_id=group.id,  # type: ignore[arg-type]
        creator_id=maya.id,  # type: ignore[arg-type]
        created_at=now,
        **{**defaults, **fields},  # type: ignore[arg-type]
    )
    uow.session.add(event)
    await uow.session.flush()
    return event


async def seed_members(uow: UnitOfWork, group: Group, now: datetime, count: int) -> dict[int, int]:
    """Telegram users 1..count as members of the group, each with a post of their own; returns
    each user's post id."""
    session = uow.session
    posts: dict[int, int] = {}
    for n in range(1, count + 1):
        person = Person(display_name=f"Member {n}", created_at=now, name_chosen=True)
        session.add(person)
        await session.flush()
        session.add(Identity(person_id=person.id, platform="telegram", external_id=str(n)))  # type: ignore[arg-type]
        session.add(
            Membership(
                group_id=group.id,
                person_id=person.id,
                role="member",
                status="active",
                created_at=now,
            )  # type: ignore[arg-type]
        )
        post = Post(group_id=group.id, author_id=person.id, body=f"Post of {n}", created_at=now)  # type: ignore[arg-type]
        session.add(post)
        await session.flush()
        posts[n] = post.id  # type: ignore[assignment]
    return posts


async def seed_community(db: Database, now: datetime, members: int) -> dict[int, int]:
    """Hiking with `members` posting members, and nothing else."""
    async with db.uow() as uow:
        _, group = await seed_group(uow, now)
        posts = await seed_members(uow, group, now, members)
        await uow.commit()
    return posts


async def seed_attendees(
    uow: UnitOfWork,
    event: Event,
    now: datetime,
    first_id: int,
    count: int,
    status: str = "confirmed",
    first: int = 0,
) -> None:
    """Telegram users first_id + first.. with a confirmed seat at the activity, or another
    `status`, in that order (its counts are the caller's to set)."""
    session = uow.session
    for n in range(first, first + count):
        person = Person(display_name=f"Hiker {n}", created_at=now)
        session.add(person)
        await session.flush()
        session.add(
            Identity(person_id=person.id, platform="telegram", external_id=str(first_id + n))  # type: ignore[arg-type]
        )
        session.add(
            Registration(
                event_id=event.id,
                person_id=person.id,
                status=status,
                seq=n + 1,
                created_at=now,
                updated_at=now,
            )  # type: ignore[arg-type]
        )
