"""Discord throughput: our bot stack against a bare discord.py bot, on the same emulator.

    .venv/bin/python -m bench.discord_throughput [--updates 2000] [--repeat 2]
                                                 [--only echo|ours] [--inflight 32] [--ttl 3]
                                                 [--stages 500]

Both bots are real discord.py clients (`commands.Bot`, default intents) connected to a fresh
local Discord emulator (tests/emulators/discord.py: REST and a zlib gateway over loopback) in
this one process, with their slash commands synced to one guild.  The same number of
interactions is dispatched to each, at most K in flight at a time (`--inflight`, the same K for
both bots): Discord answers 404 10062 to a first response later than 3 s after dispatch, so a
burst queued faster than the bot answers would measure the deadline, not the bot.  The clock
starts at the first dispatch and stops when the last interaction has been fully answered (its
handler returned and every response reached the emulator).

* echo: a bare `commands.Bot` with one slash command, `/echo [text]`, that answers
  `send_message("ok", ephemeral=True)`, and a persistent DynamicItem button (`cl:<verb>:<n>`,
  the custom_id scheme of our cards) that answers `edit_message(content=...)`.
* ours: `CommunityBot(services, guild_ids=[guild])` over a fresh, migrated SQLite file, with a
  community seeded through slash commands and the /newevent modal before the clock starts.

Workload: every user sends 5 interactions, 2 slash commands (/events, /event <n>, /mygroups,
/help, /groups), 2 clicks on the activity cards posted in the channel in the warm-up (Sign up on
one, Cancel on another they signed up for in the warm-up) and 1 /post: 40% commands, 40%
clicks, 20% posts.  The echo bot gets the same clicks (same custom_ids, on its own cards) and
`/echo` in place of each command (`/echo text:<post>` for the posts).

Latency is per interaction, from dispatch to the first response the emulator accepted.
"deferred" counts first responses that were deferrals (our adapter defers when the core has
not answered within 2 s); "unanswered" counts interactions without any response.  Errors are
REST answers >= 400 (10062 too late, 40060 answered twice, 50035 invalid, ...), handler
exceptions and errors logged by discord.py or the core.  `--ttl` raises the emulator's 3 s
deadline (for bursts with a large K).  `--stages N` adds a sequential run (K=1) of N
interactions through each bot, with our adapter's steps timed, to show where the time goes.
It is a measurement, not a test: the exit status is 0 whatever the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import re
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands
from sqlalchemy import event

import adapters.discord.interactions as discord_interactions
from adapters.discord.bot import CommunityBot
from bench import report
from core.chat import Services
from core.clock import SystemClock
from core.db import Database
from core.settings import Settings
from tests.emulators.discord import DiscordEmulator, EmuInteraction, EmuUser, walk_components

PER_USER = 5  # 2 commands, 2 clicks, 1 post: the 40/40/20 mix
ACTIVITIES = 4
INFLIGHT = 32
TOKEN = "bench-token"
GUILD_ID = 100
CHANNEL_ID = 200
ORGANIZER_ID = 1
FIRST_USER_ID = 10_000
GROUP = "hiking"
COMMANDS = ("events", "event", "mygroups", "help", "groups")
Push = Callable[[], Awaitable[EmuInteraction]]
Step = tuple[str, Push]  # (kind: "command" | "click" | "post", dispatch)


# --------------------------------------------------------------------------------------------
# Counting


class Meter:
    """Marks each interaction done when the discord.py task that runs its handler returns.

    Installed by `instrumented()` on the four places discord.py runs interaction handlers
    (the command tree, dynamic items, views, modals), so both bots are measured alike.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.started: dict[int, float] = {}
        self.done: dict[int, float] = {}
        self.failed = 0
        self._futures: dict[int, asyncio.Future[None]] = {}

    def future(self, interaction_id: int) -> asyncio.Future[None]:
        found = self._futures.get(interaction_id)
        if found is None:
            found = self._futures[interaction_id] = asyncio.get_running_loop().create_future()
            if interaction_id in self.done:
                found.set_result(None)
        return found

    def finish(self, interaction_id: int, ok: bool) -> None:
        self.done[interaction_id] = time.monotonic()
        self.failed += not ok
        found = self._futures.get(interaction_id)
        if found is not None and not found.done():
            found.set_result(None)


class ErrorLog(logging.Handler):
    """Counts ERROR records (discord.py's "Ignoring exception in ...", the core's "unexpected
    error") and keeps the first few; also keeps discord.py's voice warnings off the screen."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.errors = 0
        self.samples: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < logging.ERROR:
            return
        self.errors += 1
        if len(self.samples) < 3:
            self.samples.append(f"{record.name}: {record.getMessage()}"[:300])


class Stages:
    """Where the time of one interaction goes, for `--stages`: wall time per stage of the
    handlers (a sequential run, so one interaction's stages do not overlap another's), CPU
    time of the process, and database statements and transactions, per kind of interaction."""

    ROWS = (
        ("gateway in", "dispatch to handler start (gateway, zlib, JSON, discord.py parsing)"),
        ("actor lookup", "context_of: the person behind the Discord user"),
        ("core", "handle_text / handle_action, database included"),
        ("render", "cards to embeds and views"),
        ("REST answers", "response, edit and follow-ups: discord.py, aiohttp, emulator"),
        ("other", "the rest of the handler"),
    )

    def __init__(self) -> None:
        self.kind = "command"
        self.seconds: dict[str, Counter[str]] = defaultdict(Counter)
        self.count: Counter[str] = Counter()

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[self.kind][stage] += seconds

    def watch(self, db: Database) -> None:
        def statement(*_: Any) -> None:
            self.seconds[self.kind]["statements"] += 1

        def begin(*_: Any) -> None:
            self.seconds[self.kind]["transactions"] += 1

        event.listen(db.engine.sync_engine, "before_cursor_execute", statement)
        event.listen(db.engine.sync_engine, "begin", begin)


METER = Meter()
ERRORS = ErrorLog()
STAGES: Stages | None = None


def _interaction_in(args: tuple[Any, ...]) -> discord.Interaction[Any] | None:
    return next((a for a in args if isinstance(a, discord.Interaction)), None)


def _handler_hook(original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @wraps(original)
    async def run(*args: Any, **kwargs: Any) -> Any:
        interaction = _interaction_in(args)
        if interaction is None:
            return await original(*args, **kwargs)
        start = time.monotonic()
        METER.started[interaction.id] = start
        ok = False
        try:
            result = await original(*args, **kwargs)
            ok = True
            return result
        finally:
            METER.finish(interaction.id, ok)
            if STAGES is not None:
                STAGES.add("handler", time.monotonic() - start)

    return run


def _stage_hook(stage: str, original: Callable[..., Any]) -> Callable[..., Any]:
    if asyncio.iscoroutinefunction(original):

        @wraps(original)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            start = time.monotonic()
            try:
                return await original(*args, **kwargs)
            finally:
                if STAGES is not None:
                    STAGES.add(stage, time.monotonic() - start)

        return timed_async

    @wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.monotonic()
        try:
            return original(*args, **kwargs)
        finally:
            if STAGES is not None:
                STAGES.add(stage, time.monotonic() - start)

    return timed


HANDLER_HOOKS: tuple[tuple[Any, str], ...] = (
    (app_commands.CommandTree, "_call"),
    (discord.ui.view.ViewStore, "schedule_dynamic_item_call"),
    (discord.ui.view.BaseView, "_scheduled_task"),
    (discord.ui.Modal, "_scheduled_task"),
)
STAGE_HOOKS: tuple[tuple[Any, str, str], ...] = (
    # Our adapter's steps, looked up by name when the hooks go in (missing names are skipped,
    # so the benchmark keeps running while the adapter changes).
    (discord_interactions, "context_of", "actor lookup"),
    (discord_interactions, "handle_text", "core"),
    (discord_interactions, "handle_action", "core"),
    (discord_interactions, "render", "render"),
    (discord_interactions, "message_kwargs", "render"),
    (discord_interactions, "view", "render"),
    (discord.InteractionResponse, "send_message", "REST answers"),
    (discord.InteractionResponse, "edit_message", "REST answers"),
    (discord.InteractionResponse, "defer", "REST answers"),
    (discord.Interaction, "edit_original_response", "REST answers"),
    (discord.Webhook, "send", "REST answers"),  # interaction.followup.send
)


@contextlib.contextmanager
def instrumented(*, stages: bool = False) -> Iterator[None]:
    """Wrap discord.py's handler runners (and, with `stages`, our adapter's steps and the
    answering calls) in this process only; everything is put back on exit."""
    timed = [(owner, name, stage) for owner, name, stage in STAGE_HOOKS if hasattr(owner, name)]
    saved = [(owner, name, owner.__dict__[name]) for owner, name in HANDLER_HOOKS]
    saved += [(owner, name, getattr(owner, name)) for owner, name, _ in timed] if stages else []
    for owner, name in HANDLER_HOOKS:
        setattr(owner, name, _handler_hook(getattr(owner, name)))
    for owner, name, stage in timed if stages else []:
        setattr(owner, name, _stage_hook(stage, getattr(owner, name)))
    root = logging.getLogger()
    old_handlers, old_level = root.handlers[:], root.level
    root.handlers, root.level = [ERRORS], logging.WARNING
    try:
        yield
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)
        root.handlers, root.level = old_handlers, old_level


# --------------------------------------------------------------------------------------------
# The bots


class EchoButton(discord.ui.DynamicItem[discord.ui.Button], template=r"cl:(?P<p>[a-z]{2}:\d+)"):
    """A persistent button, rebuilt from its custom_id like our ActionButton."""

    def __init__(self, payload: str, *, label: str = "…") -> None:
        super().__init__(
            discord.ui.Button(
                label=label, custom_id=f"cl:{payload}", style=discord.ButtonStyle.secondary
            )
        )
        self.payload = payload

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> EchoButton:
        return cls(match["p"], label=item.label or "…")

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(content=f"ok {self.payload}")


class EchoBot(commands.Bot):
    """A bare bot: the same client class and intents as ours, one command, one button."""

    def __init__(self) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
        )

    async def setup_hook(self) -> None:
        self.add_dynamic_items(EchoButton)

        @app_commands.command(name="echo", description="Answers ok")
        async def echo(interaction: discord.Interaction, text: str = "") -> None:
            await interaction.response.send_message("ok", ephemeral=True)

        guild = discord.Object(id=GUILD_ID)
        self.tree.add_command(echo, guild=guild)
        await self.tree.sync(guild=guild)


@dataclass
class Stack:
    name: str
    bot: commands.Bot
    db: Database | None = None
    task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # on_ready waits guild_ready_timeout (2 s by default) after the last GUILD_CREATE.
        self.bot._connection.guild_ready_timeout = 0.05
        self.task = asyncio.create_task(self.bot.start(TOKEN))
        async with asyncio.timeout(60):
            while not self.bot.is_ready():  # polls the client and its task
                if self.task.done():
                    self.task.result()
                    raise RuntimeError(f"the {self.name} bot stopped before it was ready")
                await asyncio.sleep(0.01)

    async def stop(self) -> None:
        await self.bot.close()
        if self.task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.task, 15)
        if self.db is not None:
            await self.db.dispose()


async def our_stack(workdir: Path) -> Stack:
    url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    db = Database(url)
    await db.migrate()
    settings = Settings(_env_file=None, database_url=url, seed_demo=False)
    services = Services(db=db, clock=SystemClock(), settings=settings)
    return Stack("ours", CommunityBot(services, guild_ids=[GUILD_ID]), db=db)


# --------------------------------------------------------------------------------------------
# Driving them


@dataclass
class Window:
    records: list[EmuInteraction]
    seconds: float
    calls_before: int


async def paced(emu: DiscordEmulator, steps: list[Step], inflight: int, limit: float) -> Window:
    """Dispatch the steps in order with at most `inflight` unfinished at any time; return when
    all are done (or `limit` seconds passed)."""
    slots = asyncio.Semaphore(inflight)
    records: list[EmuInteraction] = []
    calls_before = len(emu.calls)

    def free(_: object) -> None:
        slots.release()

    start = time.monotonic()
    try:
        async with asyncio.timeout(limit):
            for kind, push in steps:
                await slots.acquire()
                stages, cpu = STAGES, 0.0
                if stages is not None:  # a sequential run: attribute everything to this kind
                    stages.kind = kind
                    stages.count[kind] += 1
                    cpu = time.process_time()
                record = await push()
                records.append(record)
                done = METER.future(record.id)
                if stages is not None:
                    done.add_done_callback(
                        lambda _, s=stages, k=kind, c=cpu, r=record: _account(s, k, c, r)
                    )
                done.add_done_callback(free)
            await asyncio.gather(*(METER.future(r.id) for r in records))
    except TimeoutError:
        pass
    end = time.monotonic()
    if len(records) == len(steps) and all(r.id in METER.done for r in records):
        # The handler returns after its last response; the later of the two, to be sure.
        end = max(METER.done[r.id] for r in records)
        end = max([end, *(r.responses[-1].time for r in records if r.responses)])
    return Window(records, max(end - start, 1e-9), calls_before)


def _account(stages: Stages, kind: str, cpu: float, record: EmuInteraction) -> None:
    if record.id not in METER.done:  # cancelled at the time limit
        return
    totals = stages.seconds[kind]
    totals["cpu"] += time.process_time() - cpu
    totals["gateway in"] += METER.started.get(record.id, record.created) - record.created
    totals["dispatch to done"] += METER.done[record.id] - record.created


async def one(emu: DiscordEmulator, push: Push) -> EmuInteraction:
    """One interaction, waited for (the organizer's steps depend on each other)."""
    window = await paced(emu, [("command", push)], 1, 30)
    return window.records[0]


def _activities(user_index: int) -> tuple[int, int]:
    """Card A (signed up during the timed run) and card B (signed up in the warm-up and
    cancelled during the timed run) for one user."""
    a = user_index % ACTIVITIES + 1
    return a, (user_index + 1) % ACTIVITIES + 1


def _signups(emu: DiscordEmulator, users: list[EmuUser], cards: dict[int, int]) -> list[Step]:
    """Every user clicks Sign up on their card B."""
    steps: list[Step] = []
    for i, user in enumerate(users):
        b = _activities(i)[1]
        steps.append(("click", lambda u=user, b=b: emu.click(u, cards[b], f"cl:su:{b}")))
    return steps


def _said(record: EmuInteraction) -> str:
    return "\n".join(
        str(e.get("description", "")) for r in record.responses for e in r.embeds
    ) or " | ".join(str(r) for r in record.responses)


async def seed_ours(
    emu: DiscordEmulator, users: list[EmuUser], inflight: int
) -> tuple[dict[int, int], int]:
    """The organizer creates the group, four activities (through the /newevent modal) and
    posts each activity's card in the channel; every user joins, then signs up on card B.
    Returns the card message id of each activity and the warm-up interactions sent again."""
    maya = emu.users[ORGANIZER_ID]
    made = await one(
        emu,
        lambda: emu.slash(
            maya,
            GUILD_ID,
            CHANNEL_ID,
            "newgroup",
            {"name": "Hiking", "description": "Weekend hikes", "tags": "hiking, outdoors"},
        ),
    )
    if "Created Hiking" not in _said(made):
        raise RuntimeError(f"seeding the community failed; /newgroup answered:\n{_said(made)}")
    when = (SystemClock().now() + timedelta(days=30)).strftime("%Y-%m-%d %H:%M")
    cards: dict[int, int] = {}
    for n in range(1, ACTIVITIES + 1):
        shown = await one(
            emu, lambda: emu.slash(maya, GUILD_ID, CHANNEL_ID, "newevent", {"group": GROUP})
        )
        if not shown.responses or shown.responses[0].type != 9:
            raise RuntimeError(f"/newevent showed no modal: {_said(shown)}")
        # Title, time, place, fee, seats: filled in by position, whatever the labels say.
        inputs = [
            c["custom_id"]
            for c in walk_components(shown.responses[0].data.get("components"))
            if c.get("type") == 4
        ]
        values = (f"Ridge walk {n}", when, "Trailhead", "free", "100000")
        form = dict(zip(inputs, values, strict=False))
        created = await one(emu, lambda form=form: emu.submit_modal(maya, None, form))
        if f"Activity #{n} created" not in _said(created):
            raise RuntimeError(f"seeding activity {n} failed; the bot said:\n{_said(created)}")
        card = await one(
            emu, lambda n=n: emu.slash(maya, GUILD_ID, CHANNEL_ID, "event", {"activity": n})
        )
        if not card.responses or card.responses[0].message_id is None:
            raise RuntimeError(f"/event {n} posted no card: {_said(card)}")
        cards[n] = card.responses[0].message_id
    joins: list[Step] = [
        ("command", lambda u=u: emu.slash(u, GUILD_ID, CHANNEL_ID, "join", {"group": GROUP}))
        for u in users
    ]
    missed = await warm(emu, joins, inflight)
    missed += await warm(emu, _signups(emu, users, cards), inflight)
    return cards, missed


async def warm(emu: DiscordEmulator, steps: list[Step], inflight: int) -> int:
    """Warm-up interactions, K in flight; those left unanswered (a 10062 in the burst) are
    sent again one at a time, so every timed run starts from the same community.  Returns how
    many were sent again."""
    window = await paced(emu, steps, inflight, 300)
    missed = [step for step, r in zip(steps, window.records, strict=False) if not r.responses]
    missed += steps[len(window.records) :]
    if missed:
        again = await paced(emu, missed, 1, 300)
        if len(again.records) < len(missed) or not all(r.responses for r in again.records):
            raise RuntimeError(f"warm-up: {len(missed)} interactions got no answer, twice")
    return len(missed)


async def seed_echo(
    emu: DiscordEmulator, stack: Stack, users: list[EmuUser], inflight: int
) -> tuple[dict[int, int], int]:
    """The echo bot posts one card per activity (Sign up, Cancel, Who buttons); every user runs
    /echo once and clicks once, as many warm-up interactions as ours gets."""
    channel = stack.bot.get_channel(CHANNEL_ID)
    assert isinstance(channel, discord.TextChannel)
    cards: dict[int, int] = {}
    for n in range(1, ACTIVITIES + 1):
        layout = discord.ui.View(timeout=None)
        for verb in ("su", "cx", "wh"):
            layout.add_item(EchoButton(f"{verb}:{n}", label=verb))
        cards[n] = (await channel.send(f"Ridge walk {n}", view=layout)).id
    steps: list[Step] = [
        ("command", lambda u=u: emu.slash(u, GUILD_ID, CHANNEL_ID, "echo")) for u in users
    ]
    steps += _signups(emu, users, cards)
    return cards, await warm(emu, steps, inflight)


def workload(
    emu: DiscordEmulator, users: list[EmuUser], kind: str, cards: dict[int, int]
) -> list[Step]:
    """Each user's 5 interactions, users interleaved, each user's order rotated so that any
    stretch of the sequence has the same 40/40/20 mix."""
    plans: list[list[Step]] = []
    for i, user in enumerate(users):
        a, b = _activities(i)
        post = f"Trail report {i}: the ridge path is dry again, views are great."
        texts: list[tuple[str, dict[str, Any]]]
        if kind == "ours":
            names = [COMMANDS[(2 * i + j) % len(COMMANDS)] for j in range(2)]
            texts = [(name, {"activity": a} if name == "event" else {}) for name in names]
            posting = ("post", {"group": GROUP, "text": post})
        else:
            texts = [("echo", {}), ("echo", {})]
            posting = ("echo", {"text": post})
        plan: list[Step] = [
            ("command", lambda u=user, c=texts[0]: emu.slash(u, GUILD_ID, CHANNEL_ID, *c)),
            ("click", lambda u=user, a=a: emu.click(u, cards[a], f"cl:su:{a}")),
            ("post", lambda u=user, c=posting: emu.slash(u, GUILD_ID, CHANNEL_ID, *c)),
            ("command", lambda u=user, c=texts[1]: emu.slash(u, GUILD_ID, CHANNEL_ID, *c)),
            ("click", lambda u=user, b=b: emu.click(u, cards[b], f"cl:cx:{b}")),
        ]
        shift = i % PER_USER
        plans.append(plan[shift:] + plan[:shift])
    return [plan[slot] for slot in range(PER_USER) for plan in plans]


@dataclass
class Trial:
    label: str
    interactions: int
    seconds: float
    done: int
    unanswered: int
    deferred: int
    http_errors: Counter[str]
    exceptions: int
    rest_calls: int
    cpu: float
    warmup_missed: int = 0
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    @property
    def complete(self) -> bool:
        return self.done >= self.interactions

    @property
    def errors(self) -> int:
        return sum(self.http_errors.values()) + self.exceptions

    def percentile(self, p: int) -> float:
        if len(self.latencies) < 2:
            return math.nan
        return statistics.quantiles(self.latencies, n=100)[p - 1] * 1000


def _users(emu: DiscordEmulator, count: int) -> list[EmuUser]:
    emu.add_user(ORGANIZER_ID, "maya", "Maya")
    emu.add_guild(GUILD_ID, "Community", channels=[(CHANNEL_ID, "general")], owner_id=1)
    users = []
    for i in range(count):
        users.append(emu.add_user(FIRST_USER_ID + i, f"user{i}", f"User {i}"))
        emu.add_member(GUILD_ID, FIRST_USER_ID + i)
    return users


async def trial(
    kind: str, updates: int, inflight: int, ttl: float, label: str, stages: Stages | None = None
) -> Trial:
    """One fresh emulator, bot and database; warm-up, then the timed interactions.  With
    `stages`, the timed interactions run one at a time and are broken down into stages."""
    global STAGES
    users_count = math.ceil(updates / PER_USER)
    async with DiscordEmulator(valid_tokens={TOKEN}, interaction_ttl=ttl) as emu:
        users = _users(emu, users_count)
        with emu.redirect_discord(), tempfile.TemporaryDirectory(prefix="bench-dc-") as workdir:
            stack = Stack("echo", EchoBot()) if kind == "echo" else await our_stack(Path(workdir))
            try:
                await stack.start()
                if kind == "echo":
                    cards, missed = await seed_echo(emu, stack, users, inflight)
                else:
                    cards, missed = await seed_ours(emu, users, inflight)
                steps = workload(emu, users, kind, cards)[:updates]
                METER.reset()
                errors_before = ERRORS.errors
                if stages is not None:
                    if stack.db is not None:
                        stages.watch(stack.db)
                    STAGES, inflight = stages, 1
                cpu_before = time.process_time()
                try:
                    window = await paced(emu, steps, inflight, max(120.0, updates / 10))
                finally:
                    STAGES = None
                cpu = time.process_time() - cpu_before
                records = window.records
                calls = emu.calls[window.calls_before :]
                first = [r.responses[0] for r in records if r.responses]
                return Trial(
                    label=label,
                    interactions=len(steps),
                    seconds=window.seconds,
                    done=sum(1 for r in records if r.id in METER.done),
                    unanswered=len(steps) - len(first),
                    deferred=sum(1 for response in first if response.type in (5, 6)),
                    http_errors=Counter(
                        f"{c.status} {(c.error or {}).get('code', '')}".strip()
                        for c in calls
                        if not c.ok
                    ),
                    # A failing command is both raised (counted by the meter) and logged by
                    # discord.py; a failing button is only logged.
                    exceptions=max(METER.failed, ERRORS.errors - errors_before),
                    rest_calls=len(calls),
                    cpu=cpu,
                    warmup_missed=missed,
                    latencies=[r.time - r.interaction.created for r in first],
                )
            finally:
                await stack.stop()


# --------------------------------------------------------------------------------------------
# Report


def _table(rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print(report.row(row, widths))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def print_table(results: dict[str, list[Trial]], repeat: int) -> None:
    head = ["bot", *(f"run {n + 1}" for n in range(repeat)), "best int/s", "p50 ms", "p95 ms"]
    head += ["REST calls/int", "CPU ms/int", "deferred", "unanswered", "errors"]
    rows = [head]
    for label, trials in results.items():
        best = max(trials, key=lambda t: t.rate)
        runs = [f"{t.rate:,.0f}" + ("" if t.complete else "*") for t in trials]
        runs += [""] * (repeat - len(runs))
        done = max(best.done, 1)
        rows.append(
            [
                label,
                *runs,
                f"{best.rate:,.0f}",
                f"{best.percentile(50):.1f}",
                f"{best.percentile(95):.1f}",
                f"{best.rest_calls / done:.2f}",
                f"{best.cpu / done * 1000:.1f}",
                str(best.deferred),
                str(best.unanswered),
                str(best.errors),
            ]
        )
    _table(rows)
    if any(not t.complete for trials in results.values() for t in trials):
        print("* did not finish in time: the rate counts the interactions done before the limit")
    for label, trials in results.items():
        for n, t in enumerate(trials, 1):
            if t.errors:
                codes = ", ".join(f"{code} x{k}" for code, k in t.http_errors.most_common())
                print(f"  {label} run {n}: HTTP {codes or 'none'}; exceptions {t.exceptions}")
    for sample in ERRORS.samples:
        print(f"  logged: {sample}")


def print_stages(results: dict[str, tuple[Trial, Stages]]) -> None:
    """Milliseconds per interaction, by stage, for each kind of ours and for all of echo."""
    columns: list[tuple[str, Stages, list[str]]] = []
    for label, (_, stages) in results.items():
        kinds = sorted(stages.count, key=("command", "click", "post").index)
        if label == "ours":
            columns += [(f"ours {kind}", stages, [kind]) for kind in kinds]
        columns.append((f"{label} all", stages, kinds))
    rows = [["ms per interaction (sequential)", *(name for name, _, _ in columns)]]

    def cell(stages: Stages, kinds: list[str], key: str, scale: float = 1000.0) -> float:
        count = sum(stages.count[k] for k in kinds) or 1
        return sum(stages.seconds[k][key] for k in kinds) / count * scale

    def other(stages: Stages, kinds: list[str]) -> float:
        inner = ("actor lookup", "core", "render", "REST answers")
        return cell(stages, kinds, "handler") - sum(cell(stages, kinds, k) for k in inner)

    for key, _ in Stages.ROWS:
        values = [other(s, k) if key == "other" else cell(s, k, key) for _, s, k in columns]
        rows.append([key, *(f"{v:.2f}" for v in values)])
    for key, name in (("dispatch to done", "= dispatch to done"), ("cpu", "CPU of the process")):
        rows.append([name, *(f"{cell(s, k, key):.2f}" for _, s, k in columns)])
    for key in ("statements", "transactions"):
        rows.append([f"DB {key}", *(f"{cell(s, k, key, 1):.1f}" for _, s, k in columns)])
    rows.append(["interactions", *(str(sum(s.count[x] for x in k)) for _, s, k in columns)])
    _table(rows)
    for key, meaning in Stages.ROWS:
        print(f"  {key}: {meaning}")


async def attempt(run: Awaitable[Trial], kind: str) -> Trial | None:
    """A run that fails (a warm-up the bot cannot get through) is reported, not raised: the
    script always finishes with exit status 0."""
    try:
        return await run
    except Exception as error:
        print(f"  {kind}: run failed: {type(error).__name__}: {error}", flush=True)
        for sample in ERRORS.samples:
            print(f"    logged: {sample}")
        return None


async def main(options: argparse.Namespace) -> None:
    kinds = ["echo", "ours"] if options.only is None else [options.only]
    results: dict[str, list[Trial]] = {kind: [] for kind in kinds}
    updates, inflight, ttl = options.updates, options.inflight, options.ttl
    print(
        f"Discord throughput: {updates:,} interactions from {math.ceil(updates / PER_USER):,} "
        "users (40% slash commands, 40% Sign up/Cancel clicks, 20% /post), best of "
        f"{options.repeat}; loopback emulator, at most {inflight} interactions in flight, "
        f"{ttl:g} s interaction deadline"
    )
    with instrumented(stages=bool(options.stages)):
        for _ in range(options.repeat):  # interleaved, so drift on the machine hits both alike
            for kind in kinds:
                result = await attempt(trial(kind, updates, inflight, ttl, kind), kind)
                if result is None:
                    continue
                results[kind].append(result)
                missed = result.warmup_missed
                print(
                    f"  {kind}: {result.done:,} interactions in {result.seconds:.2f} s "
                    f"= {result.rate:,.0f}/s"
                    + (
                        f" ({missed} warm-up interactions unanswered, sent again)" if missed else ""
                    ),
                    flush=True,
                )
        results = {kind: trials for kind, trials in results.items() if trials}
        print()
        if results:
            print_table(results, options.repeat)
            print()
        if "echo" in results and "ours" in results:
            echo = max(t.rate for t in results["echo"])
            ours = max(t.rate for t in results["ours"])
            ratio = ours / echo if echo else math.nan
            print(f"ratio ours/echo: {ratio:.2f}   ({ours:,.0f} / {echo:,.0f} interactions/s)")
        if options.stages:
            print()
            print(f"Stages: {options.stages:,} interactions one at a time (K=1), same mix")
            staged: dict[str, tuple[Trial, Stages]] = {}
            for kind in kinds:
                stages = Stages()
                result = await attempt(trial(kind, options.stages, 1, ttl, kind, stages), kind)
                if result is None:
                    continue
                staged[kind] = (result, stages)
                print(f"  {kind}: {result.rate:,.0f}/s one at a time", flush=True)
            if staged:
                print()
                print_stages(staged)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"peak RSS of this process: {peak:,.0f} MiB ({STARTUP_RSS:,.0f} MiB after imports)")


STARTUP_RSS = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.discord_throughput", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--updates", type=int, default=2000, help="timed interactions per run")
    parser.add_argument("--repeat", type=int, default=2, help="runs per bot; the best is kept")
    parser.add_argument("--only", choices=("echo", "ours"), help="measure one bot only")
    parser.add_argument(
        "--inflight",
        type=int,
        default=INFLIGHT,
        metavar="K",
        help="most interactions dispatched and not yet answered, for both bots",
    )
    parser.add_argument(
        "--ttl",
        type=float,
        default=3.0,
        metavar="S",
        help="the emulator's interaction deadline in seconds (Discord's is 3)",
    )
    parser.add_argument(
        "--stages",
        type=int,
        nargs="?",
        const=500,
        default=0,
        metavar="N",
        help="also run N interactions one at a time and show where the time goes",
    )
    options = parser.parse_args(argv)
    if options.updates < 1 or options.repeat < 1 or options.inflight < 1:
        parser.error("--updates, --repeat and --inflight must be positive")
    return options


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
    sys.exit(0)
