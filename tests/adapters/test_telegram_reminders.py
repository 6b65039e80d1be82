"""Reminders through the real aiogram Bot and the Telegram emulator."""

from __future__ import annotations

from datetime import timedelta

from adapters.telegram.pacing import Pacer
from core.chat import Services
from core.scheduler import ReminderRunner
from tests.emulators.telegram import TelegramEmulator
from tests.harness import TelegramHarness
from tests.support import START

STARTS = START + timedelta(days=3)


async def test_sign_up_then_get_the_reminder_and_release_the_spot(
    tg: TelegramHarness, clock
) -> None:
    maya, ana, ben = (
        tg.emu.add_user(1, "Maya"),
        tg.emu.add_user(2, "Ana"),
        tg.emu.add_user(3, "Ben"),
    )
    await tg.say(maya, "/newgroup Hiking")
    await tg.say(
        maya, "/newevent hiking | Ridge | 2026-11-24 12:00 | Trailhead, 52.5200, 13.4050 | free | 1"
    )
    card, _venue = await tg.say(ana, "/event 1")
    assert (await tg.click(ana, card, "Sign up"))["text"] == "You're in!"
    ben_card, _ = await tg.say(ben, "/event 1")
    await tg.click(ben, ben_card, "Sign up")

    clock.set(STARTS - timedelta(hours=1))
    before = len(tg.emu.messages(ana.id))
    assert await ReminderRunner(tg.services).run_due() == 1
    [reminder] = tg.emu.messages(ana.id)[before:][:1]
    assert "Reminder: Ridge starts in 1 hour" in reminder["plain"]
    assert any(
        call.params.get("chat_id") in (ana.id, str(ana.id)) for call in tg.emu.calls_of("sendVenue")
    ), "the map comes with it"

    ben_before = len(tg.emu.messages(ben.id))
    answer = await tg.click(ana, reminder, "Release my spot")
    assert answer["text"] == "Your sign-up is cancelled."
    assert "a seat opened up" in tg.emu.messages(ben.id)[ben_before]["plain"]


async def test_a_429_storm_delays_but_never_loses_or_repeats(tg: TelegramHarness, clock) -> None:
    await tg.say(tg.emu.add_user(1, "Maya"), "/newgroup Hiking")
    await tg.say(1, "/newevent hiking | Ridge | 2026-11-24 12:00 | Trailhead")
    people = [tg.emu.add_user(100 + n, f"P{n}") for n in range(25)]
    for person in people:
        await tg.say(person, "/signup 1")
    tg.emu.fail_every(10, retry_after=1)
    clock.set(STARTS - timedelta(hours=24))
    assert await ReminderRunner(tg.services).run_due() == 25
    for person in people:
        reminders = [m for m in tg.emu.messages(person.id) if "Reminder" in (m["plain"] or "")]
        assert len(reminders) == 1, person
    assert tg.emu.throttles, "the storm never happened"
    assert not tg.emu.early_retries, tg.emu.early_retries


async def test_paced_fan_out_never_trips_the_platform_limit(sqlite_db, clock, settings) -> None:
    """The emulator refuses more than 15 sends in any second; the pacer, set to the same
    limit, must keep every reminder under it (no 429 at all), with nobody missed or doubled."""
    async with TelegramEmulator() as emu:
        emu.rate_limit(global_per_second=15, retry_after=1)
        services = Services(db=sqlite_db, clock=clock, settings=settings)
        tg = TelegramHarness(emu, services, pacer=Pacer(per_second=15))
        await tg.start()
        try:
            await tg.say(emu.add_user(1, "Maya"), "/newgroup Hiking")
            await tg.say(1, "/newevent hiking | Ridge | 2026-11-24 12:00 | Trailhead")
            people = [emu.add_user(100 + n, f"P{n}") for n in range(40)]
            for person in people:
                await tg.say(person, "/signup 1")
            clock.set(STARTS - timedelta(hours=24))
            assert await ReminderRunner(services).run_due() == 40
        finally:
            await tg.stop()
    assert emu.throttles == []
    for person in people:
        assert sum("Reminder" in (m["plain"] or "") for m in emu.messages(person.id)) == 1
