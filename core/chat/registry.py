"""Command and action registry, and the one place that turns errors into answers.

A command is declared next to its handler with its usage and help text (marked for
translation), so /help never drifts from the code.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from core import livecards
from core.actions import Act, Action, BadAction, decode
from core.batch import Batch
from core.cards import Card, Reply, note
from core.clock import Clock
from core.db import Database
from core.errors import DomainError, forbidden
from core.i18n import N_, Translator
from core.notify import Notifier
from core.recent import Recent
from core.services.discovery import AreaCache
from core.services.inbox import AlreadyApplied
from core.services.people import Actor, ActorCache
from core.settings import Settings
from core.uow import Changes, UnitOfWork, detached

log = logging.getLogger(__name__)

# The follow-ups started while handling one update, when its transport waits for them (see
# Services.awaiting); None: nobody waits, they just run.
_FOLLOW_UPS: ContextVar[set[asyncio.Task] | None] = ContextVar("follow_ups", default=None)


@dataclass
class Services:
    """The long-lived dependencies every handler may use."""

    db: Database
    clock: Clock
    settings: Settings
    notifiers: dict[str, Notifier] = field(default_factory=dict)
    areas: AreaCache = field(default_factory=AreaCache)  # /nearby's recently read areas
    actors: ActorCache = field(default_factory=ActorCache)  # accounts recently looked up
    # (platform, chat id) -> the language its shared cards speak, "" for DEFAULT_LOCALE
    chat_languages: Recent[tuple[str, str], str] = field(default_factory=Recent)
    background: set[asyncio.Task] = field(default_factory=set)  # follow-ups under way
    copies: Batch = field(init=False)  # card copies to record, written together (livecards)
    # /healthz checks beside the database's: each running platform adds its own
    health: dict[str, Callable[[], Awaitable[bool]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.db.listeners.append(self._changed)
        self.copies = livecards.recorder(self)

    def _changed(self, changes: Changes) -> None:
        if changes.listings:
            self.areas.forget()  # /nearby shows what was created, moved or cancelled at once
        if changes.people:
            self.actors.forget_people(changes.people)  # a new name or language shows at once
        if changes.chats:
            self.chat_languages.forget()  # a chat bound in another language speaks it at once

    def later(self, work: Coroutine[Any, Any, None]) -> None:
        """Run a follow-up of an update (sending its answer's cards, a clicked card's redraw)
        in the background, so the handler need not wait for it."""
        task = detached(work)
        self.follow(task)
        waiting = _FOLLOW_UPS.get()
        if waiting is not None:
            waiting.add(task)

    def follow(self, task: asyncio.Task) -> None:
        """Count a task already running as a follow-up: `settle()` waits for it."""
        if task not in self.background:
            self.background.add(task)
            task.add_done_callback(self._done)

    @asynccontextmanager
    async def awaiting(self, at_most: float) -> AsyncIterator[None]:
        """Handle an update, then wait (up to `at_most` seconds) for the follow-ups it started:
        its answer (what it tells other people is durable work already: core.notices). For a
        transport that confirms an update only when its handler returns (Telegram's webhook):
        a process that dies before the answer went out never confirmed the update, so Telegram
        delivers it again, instead of the answer being lost in the dead process's memory with
        the update confirmed."""
        started: set[asyncio.Task] = set()
        token = _FOLLOW_UPS.set(started)
        try:
            yield
        finally:
            _FOLLOW_UPS.reset(token)
        if started:
            await asyncio.wait(started, timeout=at_most)

    def _done(self, task: asyncio.Task) -> None:
        self.background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a follow-up failed", exc_info=task.exception())

    async def settle(self) -> None:
        """Wait for every follow-up under way (shutdown, tests)."""
        while self.background:
            await asyncio.gather(*list(self.background), return_exceptions=True)


@dataclass
class Context:
    services: Services
    actor: Actor
    t: Translator
    in_group_chat: bool = False
    chat: tuple[str, str] | None = None  # (platform, chat id) of a shared chat it came from

    @property
    def me(self) -> int:
        return self.actor.person_id

    @property
    def clock(self) -> Clock:
        return self.services.clock

    def uow(self, *, readonly: bool = False) -> UnitOfWork:
        return self.services.db.uow(readonly=readonly)


def only_in_private(ctx: Context, name: str) -> None:
    """Refuse a command whose answer is one person's own in a shared chat, where everyone would
    read it: /nearby shows distances from where you live, /companions other people's interests
    and distances, /recommend and /interests your groups and tastes, /setlocation where you
    live, /link a code that makes whoever sends it you, /export, /checkin and /noshows a
    roster's accounts, attendance and misses, /deliveries whom a reminder did not reach,
    /reports who reported whom, /settings your timezone, language and reminders, /blocked whom
    you blocked, /mygroups and /myevents your groups and sign-ups, /requests who asks to join a
    group."""
    if ctx.in_group_chat:
        raise forbidden(
            "private_chat_only",
            N_("Send me /{command} in a private chat: the answer is just for you."),
            command=name,
        )


CommandHandler = Callable[[Context, str], Awaitable[Reply]]
ActionHandler = Callable[[Context, Action], Awaitable[Reply]]


@dataclass(frozen=True)
class Command:
    name: str
    handler: CommandHandler
    usage: str
    help: str
    section: str
    # platforms where the command has no place: their adapter offers no way to send it, and
    # /help there leaves it out
    hidden_on: frozenset[str] = frozenset()


COMMANDS: dict[str, Command] = {}
ACTIONS: dict[Act, ActionHandler] = {}


def command(
    name: str, *, usage: str, help: str, section: str, hidden_on: tuple[str, ...] = ()
) -> Callable[[CommandHandler], CommandHandler]:
    def register(handler: CommandHandler) -> CommandHandler:
        COMMANDS[name] = Command(name, handler, usage, help, section, frozenset(hidden_on))
        return handler

    return register


def commands_on(platform: str) -> dict[str, Command]:
    """The commands a person on this platform can use (what /help lists there)."""
    return {name: c for name, c in COMMANDS.items() if platform not in c.hidden_on}


def on_action(*acts: Act) -> Callable[[ActionHandler], ActionHandler]:
    def register(handler: ActionHandler) -> ActionHandler:
        for kind in acts:
            ACTIONS[kind] = handler
        return handler

    return register


def split_command(text: str) -> tuple[str, str]:
    """'/Join@community_bot  hiking ' -> ('join', 'hiking')."""
    head, _, rest = text.strip().partition(" ")
    name = head.lstrip("/").split("@", 1)[0].lower()
    return name, rest.strip()


async def guarded(ctx: Context, run: Callable[[], Awaitable[Reply]]) -> Reply:
    try:
        reply = await run()
    except DomainError as error:
        message = error.render(ctx.t)
        return Reply(cards=[note("⚠️ " + message)], toast=message, alert=True)
    except AlreadyApplied:
        raise  # a re-delivered update: the adapter drops it without a word
    except Exception:
        ref = secrets.token_hex(4)
        log.exception("unexpected error (ref %s) for person %s", ref, ctx.me)
        message = ctx.t("Something went wrong on our side. Reference: {ref}", ref=ref)
        return Reply(cards=[note("⚠️ " + message)], toast=message, alert=True)
    return reply


async def handle_text(ctx: Context, text: str) -> Reply:
    """Run a /command typed by the actor."""
    name, args = split_command(text)
    found = COMMANDS.get(name)
    if found is None:
        return Reply(cards=[note(ctx.t("I don't know /{name}. Try /help.", name=name[:32]))])
    return await guarded(ctx, lambda: found.handler(ctx, args))


async def handle_action(ctx: Context, payload: str) -> Reply:
    """Run a button click. Forged or stale payloads get a short refusal and change nothing."""
    try:
        action = decode(payload)
    except BadAction:
        message = ctx.t("That button no longer works.")
        return Reply(toast=message, alert=True)
    redraw = REDRAWN_WHEN_REFUSED.get(action.act)
    if redraw is not None:
        return await guarded(ctx, lambda: _redrawn_when_refused(ctx, action, redraw))
    return await guarded(ctx, lambda: ACTIONS[action.act](ctx, action))


#: Acts of a card whose refusal redraws the tapped card as things stand, with the refusal as
#: its toast. A copy can show an old state: one that scrolled away from the live copies
#: (core.livecards keeps a few per chat), or a notice's card, which is no live copy. Its
#: buttons (an offer's Accept, a Cancel on a cancelled activity) then only ever said no; now
#: the first tap also shows what is true. Filled by the modules that draw those cards.
REDRAWN_WHEN_REFUSED: dict[Act, Callable[[Context, Action], Awaitable[Card]]] = {}


async def _redrawn_when_refused(
    ctx: Context, action: Action, redraw: Callable[[Context, Action], Awaitable[Card]]
) -> Reply:
    try:
        return await ACTIONS[action.act](ctx, action)
    except DomainError as refusal:
        try:
            card = await redraw(ctx, action)
        except DomainError:  # nothing to draw (no such activity): the refusal says it
            raise refusal from None
        message = refusal.render(ctx.t)
        return Reply(cards=[card], toast=message, alert=True, edit=True)


SECTIONS = {
    "start": N_("Getting started"),
    "groups": N_("Groups"),
    "posts": N_("Posts"),
    "events": N_("Activities"),
    "discover": N_("Discover"),
    "admin": N_("Group admins"),
}
