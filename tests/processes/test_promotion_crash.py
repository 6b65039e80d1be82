"""Promotion notices survive SIGKILL: the real bot as an OS process, the Telegram emulator in
this process, one database. 100 people wait for a one-seat activity; its organiser raises the
capacity by chat, which gives all of them a seat at once. The bot is killed just after the
first few were told and started again: everyone not in flight at the kill is told exactly once
(the notice committed with the seat, core/promotions.py), nobody twice. While the notices
lived in the dying process's memory, the rest were never told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.db import Database
from core.models import Identity
from tests.emulators.telegram import TelegramEmulator
from tests.processes.fleet import (
    bot_env,
    kill_midway_and_restart,
    seed_attendees,
    seed_event,
    seed_group,
    sent_per_chat,
)

WAITING = 100
FIRST_ID = 7000
MAYA = 1
NEWS = "a seat opened up"
IN_FLIGHT = 1  # the promotion worker tells one person at a time


async def _seed(db: Database) -> None:
    """Maya's activity with its one seat taken and 100 people on the waitlist."""
    now = datetime.now(UTC)
    async with db.uow() as uow:
        maya, group = await seed_group(uow, now)
        uow.session.add(Identity(person_id=maya.id, platform="telegram", external_id=str(MAYA)))  # type: ignore[arg-type]
        starts_at = now + timedelta(days=3)
        event = await seed_event(
            uow, maya, group, now, starts_at=starts_at, capacity=1, going=1, waiting=WAITING
        )
        await seed_attendees(uow, event, now, FIRST_ID, 1)  # the one seat
        await seed_attendees(uow, event, now, FIRST_ID, WAITING, "waitlisted", first=1)
        await uow.commit()


def _told(emu: TelegramEmulator) -> dict[int, int]:
    """How many promotion notices each waiting person's chat received."""
    return sent_per_chat(emu, NEWS, FIRST_ID + 1)


async def test_promotions_told_by_a_killed_process_are_finished_by_the_next(db: Database) -> None:
    await _seed(db)
    async with TelegramEmulator() as emu:
        maya = emu.add_user(MAYA, "Maya")
        for n in range(WAITING + 1):
            emu.add_user(FIRST_ID + n, f"Hiker {n}")
        started, at_kill, done = await kill_midway_and_restart(
            bot_env(db.url, emu.base_url),
            lambda: _told(emu),
            WAITING - IN_FLIGHT,
            45,  # a killed claim is free again after its lease (15 s); then the rest go out
            start=lambda: emu.send_message(maya, "/editevent 1 capacity 200"),
        )
        assert started, "the first promotion notices never went out"
        assert at_kill < WAITING, "every notice went out before the kill; kill earlier"
        told = _told(emu)
        assert done, f"{WAITING - len(told)} promoted people were never told"
        assert all(count == 1 for count in told.values()), "someone was told twice"
        assert WAITING - len(told) <= IN_FLIGHT
        maya_saw = " ".join(m["plain"] or "" for m in emu.messages(MAYA))
        assert "Activity #1 updated." in maya_saw
