"""Telegram's 30 messages a second are per bot: two processes of one bot share the budget
through Redis, so together they never draw a 429 (each with its own budget, they do)."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from adapters.telegram.app import build_bot
from adapters.telegram.pacing import QUIET_PATIENCE, Pacer
from adapters.telegram.shared_pacing import SharedPacer
from core.notify import NotNow
from tests.emulators.telegram import TelegramEmulator
from tests.support import REDIS_URL

PEOPLE = 60  # each "process" writes to 60 people: 120 messages against 30 a second


async def _two_processes_send(emu: TelegramEmulator, pacers: list) -> None:
    bots = [build_bot("42:TEST", emu.base_url, pacer=pacer) for pacer in pacers]
    try:

        async def write(bot, first: int) -> None:
            await asyncio.gather(
                *(bot.send_message(first + n, "Ridge walk starts in 1 hour") for n in range(PEOPLE))
            )

        await asyncio.gather(*(write(bot, 100 + i * PEOPLE) for i, bot in enumerate(bots)))
    finally:
        for bot in bots:
            await bot.session.close()


async def test_two_processes_of_one_bot_share_one_send_budget() -> None:
    async with TelegramEmulator() as emu:
        for n in range(2 * PEOPLE):
            emu.add_user(100 + n, f"P{n}")
        emu.rate_limit(global_per_second=30)
        namespace = f"test:{secrets.token_hex(4)}"
        shared = [SharedPacer(REDIS_URL, "42", namespace=namespace) for _ in range(2)]
        try:
            await _two_processes_send(emu, shared)
        finally:
            for pacer in shared:
                await pacer.close()
        assert len(emu.calls_of("sendMessage")) == 2 * PEOPLE
        assert emu.throttles == []  # one budget: Telegram never had to refuse

        emu.rate_limit(global_per_second=30)  # forget the windows
        await _two_processes_send(emu, [Pacer(), Pacer()])  # a budget each: 60 a second
        assert emu.throttles  # drew 429s (waited out and retried, but refused first)


async def _until_busy(pacer, chat: str) -> NotNow:
    """Card redraws to a group chat until its limit is spent: the first one refused."""
    for _ in range(21):  # a group chat takes 20 a minute at most
        try:
            await pacer.acquire(chat, quiet=True)
        except NotNow as busy:
            return busy
        pacer.release()
    raise AssertionError(f"chat {chat} took 21 sends without a pause")


async def test_a_background_edit_of_a_busy_chat_is_refused_not_held() -> None:
    """Both pacers: a card redraw (a quiet send) does not wait seconds for a chat's own limit
    (its 20 a minute spent, or a 429's retry_after): it hears NotNow, with when to come back,
    and other chats are not held up by it."""
    namespace = f"test:{secrets.token_hex(4)}"
    shared = SharedPacer(REDIS_URL, "42", namespace=namespace)
    try:
        for pacer in (Pacer(), shared):
            busy = await _until_busy(pacer, "-1001")
            assert QUIET_PATIENCE < busy.retry_in <= 61
            await pacer.acquire("42", quiet=True)  # a private chat goes at once
            pacer.release()
            await pacer.hold("-1002", 30)  # a 429's retry_after on another group chat
            with pytest.raises(NotNow) as held:
                await pacer.acquire("-1002", quiet=True)
            assert 25 < held.value.retry_in <= 31
    finally:
        await shared.close()
