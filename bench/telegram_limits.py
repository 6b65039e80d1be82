"""Telegram under its real limits: the 2,000-update mix with the emulator refusing what Telegram
would refuse, and our bot running its real pacer.

    .venv/bin/python -m bench.telegram_throughput --mode limits [--updates 2000]

The emulator enforces Telegram's flood control (`TelegramEmulator.limit_like_telegram`: 30
sends a second per bot, about one a second per private chat after a burst of four, 20 a minute
per group chat; edits count as sends) and answers 429 to anything over it. Our stack is the one
`run_telegram` builds, with `Pacer()` as deployed (not `FAST`) and its card refresher.

The community: an organiser's group homed in one Telegram group chat, 20 activities announced
there (the cards everybody clicks), and `updates / 10` people who started the bot and joined.
Then all updates are queued at once: each person sends 5 commands in their private chat
(`/events`, `/event N`, `/mygroups`, `/help`, `/groups`) and makes 5 clicks on the group's
cards (Sign up on three, Cancel on one of those, Maybe on one): half commands, half clicks,
every click on one of 20 cards in one chat.

Printed, each beside its limit or target: whether every update was answered (each command got
its reply, each click its answer), the click answers' p50/p95 (from the click to the answer,
as the emulator saw it; Telegram's window is 15 s, the target p95 < 1 s), messages sent per
second while replies were still queued (target >= 0.9 of 30/s), 429s (target 0), the edits of
each group card (at most 20 a minute with the announcements) and whether every card ended
showing its activity's true count.
"""

from __future__ import annotations

import asyncio
import math
import re
import statistics
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import func, select

from adapters.telegram.app import CONCURRENT_UPDATES
from adapters.telegram.middlewares import FloodMiddleware
from adapters.telegram.pacing import Pacer
from bench.report import frozen_heap
from bench.telegram_throughput import COMMANDS, ORGANIZER_ID, our_stack, settle
from core.clock import SystemClock
from core.models import Registration
from tests.emulators.telegram import SEND_METHODS, TELEGRAM_PER_SECOND, EmuUser, TelegramEmulator

GROUP_CHAT = -100_500_600
CARDS = 20
CAPACITY = 1000
PER_PERSON = 10  # 5 commands and 5 clicks
FIRST_USER_ID = 20_000
QUIET = 5.0  # seconds without a send after which the refresher counts as done
SEND_RATE_TARGET = 0.9
CLICK_P95_TARGET = 1.0


async def _seed(emu: TelegramEmulator, stack: Any, people: list[EmuUser]) -> list[dict]:
    """The group, its home chat, the 20 announced cards; everybody starts the bot and joins.
    Returns the group chat's cards, activity 1 first."""
    maya = emu.add_user(ORGANIZER_ID, "Maya", "maya")
    emu.add_group_chat(GROUP_CHAT, "Hikers", admins=[ORGANIZER_ID])
    when = (SystemClock().now() + timedelta(days=30)).strftime("%Y-%m-%d %H:%M")
    script = [
        (None, "/start"),
        (None, "/newgroup Hiking | Weekend hikes | hiking, outdoors"),
        (GROUP_CHAT, "/bindgroup hiking"),
    ]
    script += [
        (None, f"/newevent hiking | Ridge walk {n} | {when} | Trailhead | free | {CAPACITY}")
        for n in range(1, CARDS + 1)
    ]
    for chat, text in script:  # one at a time: each depends on the one before
        await settle(stack, [lambda c=chat, t=text: emu.send_message(maya, t, chat_id=c)], 30)
    for text in ("/start", "/join hiking"):
        await settle(stack, [lambda u=u, t=text: emu.send_message(u, t) for u in people], 300)
    await stack.services.settle()
    deadline = time.monotonic() + 180  # the announcements go out at the group's 20 a minute
    while time.monotonic() < deadline:
        cards = _cards(emu)
        if len(cards) == CARDS:
            return [cards[n] for n in range(1, CARDS + 1)]
        await asyncio.sleep(0.5)
    raise RuntimeError(f"only {len(_cards(emu))} of {CARDS} cards reached the group chat")


def _cards(emu: TelegramEmulator) -> dict[int, dict]:
    """The group chat's activity cards by activity id (from their Sign up buttons)."""
    found = {}
    for message in emu.messages(GROUP_CHAT):
        for _, data in emu.buttons(message):
            if data and data.startswith("su:"):
                found[int(data[3:])] = message
    return found


def _workload(emu: TelegramEmulator, people: list[EmuUser], cards: list[dict]) -> list:
    """Each person's 10 updates, alternating command and click, people interleaved."""
    plans = []
    for i, person in enumerate(people):
        a, b, c = i % CARDS, (i + 7) % CARDS, (i + 13) % CARDS
        clicks = [(a, "su"), (b, "su"), (a, "cx"), (c, "su"), ((i + 3) % CARDS, "mb")]
        texts = [COMMANDS[(i + j) % len(COMMANDS)].format(a=a + 1) for j in range(5)]
        plan = []
        for text, (card, verb) in zip(texts, clicks, strict=True):
            plan.append(lambda u=person, t=text: emu.send_message(u, t))
            plan.append(lambda u=person, m=cards[card], d=f"{verb}:{card + 1}": emu.click(u, m, d))
        plans.append(plan)
    return [plan[slot] for slot in range(PER_PERSON) for plan in plans]


async def _quiet(emu: TelegramEmulator, limit: float) -> None:
    """Wait until no send has been made for QUIET seconds (the refresher has caught up)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        sends = [c.time for c in emu.calls if c.method in SEND_METHODS]
        if sends and emu.clock() - sends[-1] >= QUIET:
            return
        await asyncio.sleep(0.5)


async def _true_counts(stack: Any) -> dict[int, int]:
    async with stack.db.uow(readonly=True) as uow:
        rows = await uow.session.exec(
            select(Registration.event_id, func.count())
            .where(Registration.status == "confirmed")
            .group_by(Registration.event_id)
        )
        return dict(rows.all())


async def run(updates: int) -> None:
    people_count = math.ceil(updates / PER_PERSON)
    print(
        f"Telegram under its limits: {people_count * PER_PERSON:,} updates from {people_count:,} "
        f"people (half commands in private chats, half clicks on {CARDS} cards in one group "
        "chat); the emulator enforces 30 sends/s, ~1/s per private chat, 20/min per group chat "
        "(edits included); our real pacer"
    )
    async with TelegramEmulator() as emu:
        people = [emu.add_user(FIRST_USER_ID + i, f"User{i}") for i in range(people_count)]
        with tempfile.TemporaryDirectory(prefix="bench-tg-limits-") as workdir:
            polling = {"tasks_concurrency_limit": CONCURRENT_UPDATES}
            stack = await our_stack(emu, Path(workdir), polling, pacer=Pacer())
            await stack.start()
            try:
                cards = await _seed(emu, stack, people)
                emu.limit_like_telegram()  # from here on, what Telegram would refuse is refused
                await asyncio.sleep(FloodMiddleware().per + 0.5)  # the warm-up's flood window
                pushes = _workload(emu, people, cards)
                calls_before, answers_before = len(emu.calls), len(emu.callback_answers)
                with frozen_heap():
                    start = emu.clock()
                    handled = await settle(stack, pushes, 600)
                await stack.services.settle()
                replied = emu.clock() - start
                await _quiet(emu, 300)
                calls = emu.calls[calls_before:]
                answers = emu.callback_answers[answers_before:]
                counts = await _true_counts(stack)
                report(start, handled, replied, stack, calls, answers, emu, counts, people)
            finally:
                await stack.stop()


def report(
    start: float,
    handled: float,
    replied: float,
    stack: Any,
    calls: list,
    answers: list[dict],
    emu: TelegramEmulator,
    counts: dict[int, int],
    people: list[EmuUser],
) -> None:
    sends = [c for c in calls if c.method in SEND_METHODS and c.ok]
    ids = {p.id for p in people}
    replies = Counter(
        c.params.get("chat_id") for c in sends if c.method == "sendMessage"
    )  # chat ids as sent
    answered_commands = sum(
        min(5, replies.get(p.id, 0) + replies.get(str(p.id), 0)) for p in people
    )
    waits = sorted(a["waited"] for a in answers if a["user_id"] in ids)
    held = sorted(a["handled_in"] for a in answers if a["user_id"] in ids)
    p50 = statistics.median(waits) if waits else math.nan
    p95 = statistics.quantiles(waits, n=100)[94] if len(waits) > 1 else math.nan
    busy = replied  # until the last reply to an update went out: work was queued till then
    in_busy = sum(1 for c in sends if c.time <= start + busy)
    rate = in_busy / busy if busy else math.nan
    group_edits = sorted(
        c.time
        for c in sends
        if c.method == "editMessageText" and str(c.params.get("chat_id")) == str(GROUP_CHAT)
    )
    worst_minute = max(
        (sum(1 for t in group_edits if s <= t < s + 60) for s in group_edits), default=0
    )
    cards = _cards(emu)
    stale = [
        n
        for n, card in cards.items()
        if not re.search(
            rf"\b{counts.get(n, 0)}/{CAPACITY:,} going|\b{counts.get(n, 0)}/{CAPACITY} going",
            card["plain"] or "",
        )
    ]
    clicks = len(people) * 5
    print(f"  every update handled in {handled:.1f} s; every reply sent after {replied:.1f} s")
    print(f"  commands answered:    {answered_commands:,} of {len(people) * 5:,}")
    queued = sum(1 for a in answers if a["user_id"] in ids and "queued" in (a["text"] or ""))
    print(
        f'  clicks answered:      {len(waits):,} of {clicks:,} ({queued:,} of them "queued",'
        " their result sent as a message)"
    )
    verdict = "MET" if p95 < CLICK_P95_TARGET else "NOT MET"
    print(
        f"  click answer p50/p95, from the click: {p50 * 1000:,.0f} / {p95 * 1000:,.0f} ms   "
        f"(Telegram's window 15 s; target p95 < {CLICK_P95_TARGET:.0f} s: {verdict}); max "
        f"{waits[-1] * 1000:,.0f} ms"
    )
    h50, h95 = statistics.median(held), statistics.quantiles(held, n=100)[94]
    verdict = "MET" if h95 < CLICK_P95_TARGET else "NOT MET"
    print(
        f"  click answer p50/p95, from the bot's getUpdates: {h50 * 1000:,.0f} / {h95 * 1000:,.0f}"
        f" ms   (the rest of the wait is the queue at Telegram; target p95 < 1 s: {verdict})"
    )
    verdict = "MET" if rate >= SEND_RATE_TARGET * TELEGRAM_PER_SECOND else "NOT MET"
    print(
        f"  messages sent/s while replies were queued: {rate:.1f}   (limit {TELEGRAM_PER_SECOND}/s;"
        f" target >= {SEND_RATE_TARGET * TELEGRAM_PER_SECOND:.0f}/s: {verdict}); "
        f"{in_busy:,} sends in {busy:.1f} s"
    )
    print(f"  refused calls (429):  {len(emu.throttles)}   (target 0)")
    print(
        f"  group card edits:     {len(group_edits)}, at most {worst_minute} in any minute "
        "(limit 20 a minute, announcements included)"
    )
    print(f"  cards stale once the refresher went quiet: {len(stale)} of {len(cards)}")
    print(f"  errors in handlers: {stack.meter.errors}")
