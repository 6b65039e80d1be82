"""A reminder fan-out survives SIGKILL: the real bot as an OS process, the Telegram emulator in
this process, one database (SQLite, and PostgreSQL where required). 120 people are due a
reminder; the bot is killed just after the first few went out and started again: everyone not
in flight at the kill gets exactly one reminder within 30 seconds of the restart, nobody gets
two, and the sends that were in flight (at most the sender's concurrency: one) are the only
ones that may be lost (docs/architecture.md, "Reminders")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.db import Database
from core.services import reminders
from tests.emulators.telegram import TelegramEmulator
from tests.processes.fleet import (
    bot_env,
    kill_midway_and_restart,
    seed_attendees,
    seed_event,
    seed_group,
    sent_per_chat,
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


def _reminded(emu: TelegramEmulator) -> dict[int, int]:
    """How many reminders each attendee's chat received."""
    return sent_per_chat(emu, TITLE, FIRST_ID)


async def test_a_killed_fan_out_is_finished_by_the_restarted_process(db: Database) -> None:
    await _seed(db)
    async with TelegramEmulator() as emu:
        for n in range(PEOPLE):
            emu.add_user(FIRST_ID + n, f"Hiker {n}")
        # everyone but the sends in flight at the kill, within 30 s of the restart
        started, at_kill, done = await kill_midway_and_restart(
            bot_env(db.url, emu.base_url), lambda: _reminded(emu), PEOPLE - IN_FLIGHT, 30
        )
        assert started, "the first reminders never went out"
        assert at_kill < PEOPLE, "the fan-out finished before the kill; kill earlier"
        reminded = _reminded(emu)
        assert done, f"{PEOPLE - len(reminded)} people never got their reminder"
        assert all(count == 1 for count in reminded.values()), "someone was reminded twice"
        assert PEOPLE - len(reminded) <= IN_FLIGHT
