"""A reminder fan-out survives SIGKILL: the real bot as an OS process, the Telegram emulator in
this process, one database (SQLite, and PostgreSQL where required). 120 people are due a
reminder; the bot is killed just after the first few went out and started again: everyone not
in flight at the kill gets exactly one reminder within 30 seconds of the restart, nobody gets
two, and the sends that were in flight (at most the sender's concurrency: one) are the only
ones that may be lost (docs/architecture.md, "Reminders")."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import UTC, datetime, timedelta

from core.db import Database
from core.services import reminders
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

PEOPLE = 120
FIRST_ID = 5000
TITLE = "Ridge walk"
IN_FLIGHT = 1  # the reminder runner sends one message at a time


async def _seed(db: Database) -> None:
    """A group, an activity due its 10-minute reminder in 2 seconds, 120 people with a seat."""
    now = datetime.now(UTC)
    async with db.uow() as uow:
        maya, group = await seed_group(uow, now)
        event = await seed_event(
            uow,
            maya,
            group,
            now,
            title=TITLE,
            starts_at=now + timedelta(minutes=10, seconds=2),
            reminder_offsets="10m",
            going=PEOPLE,
        )
        await seed_attendees(uow, event, now, FIRST_ID, PEOPLE)
        await reminders.schedule_event(uow, event, now)
        await uow.commit()


async def _start_bot(url: str, api_base: str) -> asyncio.subprocess.Process:
    return await start_bot(bot_env(url, api_base))


def _reminded(emu: TelegramEmulator) -> dict[int, int]:
    """How many reminders each attendee's chat received."""
    return sent_per_chat(emu, TITLE, FIRST_ID)


async def test_a_killed_fan_out_is_finished_by_the_restarted_process(db: Database) -> None:
    await _seed(db)
    async with TelegramEmulator() as emu:
        for n in range(PEOPLE):
            emu.add_user(FIRST_ID + n, f"Hiker {n}")
        bot = await _start_bot(db.url, emu.base_url)
        try:
            started = await until(lambda: len(_reminded(emu)) >= 3, 60)
            assert started, "the first reminders never went out"
        finally:
            if bot.returncode is None:
                os.killpg(bot.pid, signal.SIGKILL)  # mid fan-out, no chance to clean up
            await bot.wait()
        at_kill = dict(_reminded(emu))
        assert len(at_kill) < PEOPLE, "the fan-out finished before the kill; kill earlier"

        restarted = await _start_bot(db.url, emu.base_url)
        try:
            # everyone but the sends in flight at the kill, within 30 s of the restart
            done = await until(lambda: len(_reminded(emu)) >= PEOPLE - IN_FLIGHT, 30)
            await asyncio.sleep(1)  # anything sent twice would arrive now
        finally:
            await stop(restarted)
        reminded = _reminded(emu)
        assert done, f"{PEOPLE - len(reminded)} people never got their reminder"
        assert all(count == 1 for count in reminded.values()), "someone was reminded twice"
        assert PEOPLE - len(reminded) <= IN_FLIGHT
