"""Notices people must not miss survive SIGKILL: the real bot as an OS process, the Telegram
emulator in this process, one database. 100 people wait for a one-seat activity; its organiser
either raises the capacity by chat, which gives all of them a seat at once, or cancels the
activity, which all 101 on the roster must hear. The bot is killed just after the first few
were told and started again: everyone not in flight at the kill is told exactly once (the
notice committed with the change, core/notices.py), nobody twice. While the notices lived in
the dying process's memory, the rest were never told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

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
FIRST_ID = 7000  # the seat holder; the waiting people follow
MAYA = 1
IN_FLIGHT = 1  # the notice worker tells one person at a time

# what Maya types, what the notice says, the first chat told, Maya's answer
PROMOTION = ("/editevent 1 capacity 200", "a seat opened up", FIRST_ID + 1, "Activity #1 updated.")
CANCELLATION = ("/cancelevent 1", "Cancelled: ", FIRST_ID, "Activity #1 is cancelled")


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


@pytest.mark.parametrize("case", [PROMOTION, CANCELLATION], ids=["promotion", "cancellation"])
async def test_notices_told_by_a_killed_process_are_finished_by_the_next(
    db: Database, case: tuple[str, str, int, str]
) -> None:
    typed, news, first_told, answer = case
    expected = FIRST_ID + WAITING + 1 - first_told
    await _seed(db)
    async with TelegramEmulator() as emu:
        maya = emu.add_user(MAYA, "Maya")
        for n in range(WAITING + 1):
            emu.add_user(FIRST_ID + n, f"Hiker {n}")

        def told() -> dict[int, int]:
            return sent_per_chat(emu, news, first_told)

        started, at_kill, done = await kill_midway_and_restart(
            bot_env(db.url, emu.base_url),
            told,
            expected - IN_FLIGHT,
            45,  # a killed claim is free again after its lease (15 s); then the rest go out
            start=lambda: emu.send_message(maya, typed),
        )
        assert started, "the first notices never went out"
        assert at_kill < expected, "every notice went out before the kill; kill earlier"
        reached = told()
        assert done, f"{expected - len(reached)} of {expected} people were never told"
        assert all(count == 1 for count in reached.values()), "someone was told twice"
        assert expected - len(reached) <= IN_FLIGHT
        maya_saw = " ".join(m["plain"] or "" for m in emu.messages(MAYA))
        assert answer in maya_saw
