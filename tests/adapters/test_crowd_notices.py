"""Notices to a crowd while Telegram's limits are enforced: a cancellation told to everyone on
a full roster, through the real aiogram Bot and the deployed pacer, while another crowd taps
another card. Every notice arrives once, no tap waits behind them, nothing is refused."""

from __future__ import annotations

from adapters.telegram.pacing import Pacer
from core.chat import Services
from tests.adapters.test_live_cards import GROUP_CHAT, ORGANISER, _hiking_with_home, _plain
from tests.emulators.telegram import TelegramEmulator
from tests.harness import TelegramHarness

ROSTER = 60
TAPPERS = 40


def _told_cancelled(emu: TelegramEmulator, chat_id: int) -> list[dict]:
    return [m for m in emu.messages(chat_id) if _plain(m).startswith("Cancelled: Ridge walk")]


async def test_a_cancellation_told_to_a_full_roster_holds_up_no_tap(
    sqlite_db, clock, settings
) -> None:
    async with TelegramEmulator() as emu:
        services = Services(db=sqlite_db, clock=clock, settings=settings)
        tg = TelegramHarness(emu, services, pacer=Pacer())  # the pacer as deployed
        await tg.start()
        try:
            ridge = await _hiking_with_home(tg, capacity=ROSTER)
            await tg.say(ORGANISER, "/newevent hiking | Lake loop | 2026-12-06 09:00 | Lake | free")
            lake = emu.last_message(GROUP_CHAT)
            assert lake is not None and "Lake loop" in _plain(lake)
            roster = [emu.add_user(100 + n, f"Hiker{n}") for n in range(ROSTER)]
            tappers = [emu.add_user(500 + n, f"Walker{n}") for n in range(TAPPERS)]
            await tg.handled(  # each on the roster holds a personal copy of the card too
                [emu.send_message(person, "/signup 1") for person in roster]
                + [emu.send_message(person, "/start") for person in tappers]
            )

            emu.limit_like_telegram()
            _, sign_up = emu.find_button(lake, "Sign up")
            cancel = emu.send_message(ORGANISER, "/cancelevent 1")
            taps = [emu.click(person, lake, sign_up) for person in tappers]  # one batch
            await tg.handled([cancel, *taps])

            answers = [a for a in emu.callback_answers if a["user_id"] >= 500]
            assert len(answers) == TAPPERS  # every spinner stopped
            assert max(a["waited"] for a in answers) <= 2.0  # none waited behind the notices
            assert [len(_told_cancelled(emu, p.id)) for p in roster] == [1] * ROSTER
            assert not any(_told_cancelled(emu, p.id) for p in tappers)
            assert not _told_cancelled(emu, ORGANISER)  # she did it; her answer says so
            assert emu.throttles == []  # 60 notices, 60 redraws, 40 taps: nothing refused
            assert "[Cancelled]" in _plain(tg.current(ridge))
            assert f"{TAPPERS} going" in _plain(tg.current(lake))
        finally:
            await tg.stop()
