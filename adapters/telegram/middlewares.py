"""aiogram middlewares: apply each update once, limit floods, name the actor.

(Outgoing requests are paced, and 429s waited out, in adapters/telegram/pacing.py.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramAPIError
from aiogram.methods import GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery, TelegramObject, Update, User

from core.batch import Batch
from core.chat import Services
from core.chat.identity import context_for
from core.i18n import Translator
from core.services import inbox
from core.uow import RIDER

log = logging.getLogger(__name__)
PLATFORM = "telegram"
UPDATES_PER_CALL = 100  # Telegram's getUpdates default and most
INTAKE_HOLD = 1.0  # seconds at most that reading a backlog in holds new handlers back
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class OnceMiddleware(BaseMiddleware):
    """Apply an update at most once, even if Telegram delivers it again after a crash.

    A small in-memory window answers the common case; the database ledger (core.services.inbox)
    answers across restarts and across processes. The ledger's claim commits with the update's
    first change (a rider of the unit of work), so the update costs no transaction of its own
    and a crash cannot separate the two. An update that changed nothing is claimed after its
    handler, in the background, with the others of the moment (one transaction for them all).
    """

    def __init__(self, services: Services, window: int = 4096) -> None:
        self.services = services
        self.window = window
        self.recent: OrderedDict[int, None] = OrderedDict()
        self.unchanged: Batch[inbox.Claim] = Batch(self._claim_all)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        if event.update_id in self.recent:
            return None
        claim = inbox.Claim(PLATFORM, event.update_id, self.services.clock.now())
        token = RIDER.set(claim)
        try:
            result = await handler(event, data)
        except inbox.AlreadyApplied:
            log.info("update %s already applied; skipped", event.update_id)
            result = None
        finally:
            RIDER.reset(token)
        if claim.done:
            self._applied(event.update_id)
        else:  # it changed nothing: claimed with the others of the moment
            self.services.later(self._claim(claim))
        return result

    async def _claim(self, claim: inbox.Claim) -> None:
        await self.unchanged.add(claim)
        self._applied(claim.update_id)

    async def _claim_all(self, claims: list[inbox.Claim]) -> None:
        async with self.services.db.uow() as uow:
            await inbox.claim_all(uow, claims)

    def _applied(self, update_id: int) -> None:
        """Only once claimed: an update whose claim failed may come again."""
        self.recent[update_id] = None
        if len(self.recent) > self.window:
            self.recent.popitem(last=False)


class Slots:
    """At most `n` handlers at once, clicks first: a waiting click takes the next free slot
    before any waiting message. A click's spinner turns until it is answered and Telegram gives
    up after 15 s, while a command's reply may come a little later; under a backlog (a crowd,
    a restart after downtime) clicks are therefore served first. Each person's own order is
    kept by their queue, before a slot is asked for.

    While a backlog is being read in (`IntakeWatch`), no new slot is handed out, for at most
    `INTAKE_HOLD` seconds: reading 100 updates a getUpdates call shares the one event loop with
    the handlers, and a click still unread at Telegram cannot be answered, not even "queued"."""

    def __init__(self, n: int) -> None:
        self.n = self.free = n
        self.waiting: tuple[deque[asyncio.Future[None]], deque[asyncio.Future[None]]] = (
            deque(),  # clicks
            deque(),  # everything else
        )
        self.held = False
        self._intake: asyncio.TimerHandle | None = None  # ends the hold however long the read

    def intake(self, more: bool) -> None:
        """`more`: a getUpdates call came back full, so Telegram holds more: hold new slots
        until a call comes back short, or INTAKE_HOLD after the first full one."""
        if more and self._intake is None:
            self.held = True
            loop = asyncio.get_running_loop()
            self._intake = loop.call_later(INTAKE_HOLD, self._let_go)
        elif not more and self._intake is not None:
            self._intake.cancel()
            self._intake = None
            self._let_go()

    def _let_go(self) -> None:
        self.held = False
        while self.free and any(self.waiting):
            self.free -= 1
            self._hand_over()

    @contextlib.asynccontextmanager
    async def take(self, urgent: bool) -> AsyncIterator[None]:
        if self.free and not any(self.waiting) and not self.held:
            self.free -= 1
        else:
            turn = asyncio.get_running_loop().create_future()
            queue = self.waiting[0 if urgent else 1]
            queue.append(turn)
            try:
                await turn
            except asyncio.CancelledError:
                if turn.cancelled():
                    queue.remove(turn)
                else:
                    self._release()  # handed a slot as it was cancelled: pass it on
                raise
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        if self.held or not any(self.waiting):
            self.free += 1
        else:
            self._hand_over()

    def _hand_over(self) -> None:
        """Give a taken slot to the first waiter, clicks first."""
        queue = self.waiting[0] or self.waiting[1]
        queue.popleft().set_result(None)


class IntakeWatch(BaseRequestMiddleware):
    """Tells `Slots` whether Telegram still holds unread updates: a getUpdates call that comes
    back full (100, Telegram's most) means a backlog is being read in (a crowd, a restart)."""

    def __init__(self, slots: Slots) -> None:
        self.slots = slots

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        result = await make_request(bot, method)  # the method's result: here, the updates
        if isinstance(method, GetUpdates):
            most = method.limit or UPDATES_PER_CALL
            self.slots.intake(len(result) >= most)  # type: ignore[arg-type]
        return result


class ClickClock:
    """A click's answer is due within Telegram's window (15 s from the tap), however long the
    queue ahead of it: if the handler has not answered `after` seconds after the click reached
    the bot (or at once, `expire()`, when the wait is known to be long), the spinner is stopped
    with "queued", and the handler's toast comes later as a message instead (`claim()` says
    which). The click itself is never dropped."""

    def __init__(self, query: CallbackQuery, locale: str | None, after: float) -> None:
        self.query, self.locale = query, locale
        self.done = False
        self._ack: asyncio.Task[None] | None = None
        self._timer = asyncio.get_running_loop().call_later(after, self._expire)

    def claim(self) -> bool:
        """True when the caller answers the query itself; False when "queued" already did."""
        if self.done:
            return False
        self.done = True
        self._timer.cancel()
        return True

    def cancel(self) -> None:
        self._timer.cancel()

    def expire(self) -> None:
        """Answer "queued" now."""
        self._timer.cancel()
        self._expire()

    def _expire(self) -> None:
        if not self.done:
            self.done = True
            self._ack = asyncio.ensure_future(self._answer_queued())

    async def _answer_queued(self) -> None:
        t = Translator(self.locale)
        text = t("⏳ Busy right now: your tap is queued, I'll message you.")
        try:
            await self.query.answer(text)
        except TelegramAPIError as error:
            log.info("could not answer a queued click: %s", error)


class FloodMiddleware(BaseMiddleware):
    """Each person's updates in arrival order, bursts queued, only real floods refused.

    The outermost update middleware after aiogram's own, so it sees updates in the order
    polling delivered them: each takes its place in its person's queue before anything awaits.
    A person's updates then run one at a time (their /newgroup and /join never race), while
    other people's run beside them, at most `concurrent` handlers at once: only the head of
    each person's queue takes one of those slots, so a person's burst of twenty waits on its
    own and stalls nobody else; waiting clicks get the slots before waiting messages (`Slots`).
    (aiogram's own `tasks_concurrency_limit` would count the
    waiting ones too, so the dispatcher is given a much larger one.)

    A phone that reconnects after a tunnel delivers its queued messages at once: they are all
    handled, in order. More than `limit` updates from one person within `per` seconds is a
    flood: those are refused, with a translated "slow down" each time a flood starts (then
    quietly, clicks still answered, until the person's window clears).

    A click's spinner should stop within a second: a click that is expected to wait longer than
    `prompt` (`_expected_wait`: the person's own updates ahead of it and, when every
    slot is taken, the queue for slots, at the recent handling time) hears "queued" at once,
    and its result comes as a message; so does a click whose person's message waits for a slot
    (clicks arriving later go first: its wait has no bound). The estimate can still be wrong (a
    backlog's handling time swings), so any other click hears "queued" once it has waited
    `answer_within`.
    """

    def __init__(
        self,
        limit: int = 30,
        per: float = 10.0,
        concurrent: int = 8,
        answer_within: float = 0.7,
        prompt: float = 0.7,
    ) -> None:
        self.limit, self.per = limit, per
        # Seconds a click waits at most for its handler's toast before it hears "queued" (with
        # Telegram's delivery, its spinner then stops within a second), and the expected wait
        # past which it hears "queued" at once.
        self.answer_within, self.prompt = answer_within, prompt
        self.handling = 0.05  # seconds an update holds its slot, recently (moving average)
        self.slots = Slots(concurrent)
        self.queues: dict[int, asyncio.Lock] = {}
        self.waiting: dict[int, int] = {}
        # people whose next update waits for a slot: True for a click, False for a message
        self.asking: dict[int, bool] = {}
        self.seen: dict[int, deque[float]] = {}
        self.flooding: set[int] = set()

    async def watch_intake(self, bot: Bot) -> None:
        """At polling's start (the dispatcher's startup): let `Slots` see getUpdates answers."""
        if not any(isinstance(m, IntakeWatch) for m in bot.session.middleware):
            bot.session.middleware(IntakeWatch(self.slots))

    def _floods(self, user_id: int) -> bool:
        """Count the update in the person's window; True when it is over the limit."""
        now = time.monotonic()
        stamps = self.seen.setdefault(user_id, deque())
        while stamps and now - stamps[0] > self.per:
            stamps.popleft()
        stamps.append(now)
        if len(self.seen) > 10_000:  # forget idle people
            self.seen = {k: v for k, v in self.seen.items() if v and now - v[-1] <= self.per}
        return len(stamps) > self.limit

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        query = event.callback_query if isinstance(event, Update) else None
        urgent = query is not None
        if user is None:
            async with self.slots.take(urgent):
                return await handler(event, data)
        if query is not None:
            clock = data["click"] = ClickClock(query, user.language_code, self.answer_within)
            if self._expected_wait(user.id) > self.prompt:
                clock.expire()
        try:
            return await self._in_line(user, handler, event, data, urgent)
        finally:
            if query is not None:
                data["click"].cancel()

    def _expected_wait(self, key: int) -> float:
        """Seconds until an update from this person, arriving now, would be handled: their own
        earlier updates one after another, after the queue for slots when no slot is free or a
        backlog is being read in (a click passes waiting messages, but not when its person's
        earlier message waits there). Unbounded while their message waits for a slot: every
        click arriving later goes first."""
        if self.asking.get(key) is False:
            return math.inf
        ahead = self.waiting.get(key, 0)
        clicks, messages = (len(queue) for queue in self.slots.waiting)
        queued = clicks + (messages if ahead else 0)
        idle = self.slots.free and not self.slots.held
        backlog = 0.0 if idle else queued / self.slots.n * self.handling
        return backlog + (ahead + 1) * self.handling

    async def _in_line(
        self,
        user: User,
        handler: Handler,
        event: TelegramObject,
        data: dict[str, Any],
        urgent: bool,
    ) -> Any:
        key = user.id
        flood = self._floods(key)
        queue = self.queues.setdefault(key, asyncio.Lock())
        self.waiting[key] = self.waiting.get(key, 0) + 1
        try:
            async with queue:
                if flood:
                    return await self._refuse(key, event, user, data.get("click"))
                self.flooding.discard(key)
                self.asking[key] = urgent
                try:
                    async with self.slots.take(urgent):
                        del self.asking[key]
                        began = time.monotonic()
                        try:
                            return await handler(event, data)
                        finally:
                            took = time.monotonic() - began
                            self.handling += (took - self.handling) * 0.1
                finally:
                    self.asking.pop(key, None)
        finally:
            self.waiting[key] -= 1
            if not self.waiting[key]:
                del self.waiting[key], self.queues[key]

    async def _refuse(
        self, key: int, event: TelegramObject, user: User, click: ClickClock | None
    ) -> None:
        first = key not in self.flooding
        self.flooding.add(key)
        t = Translator(user.language_code)
        text = t("Slow down a little, please.") if first else None
        assert isinstance(event, Update)
        if event.callback_query is not None:
            if click is None or click.claim():
                await event.callback_query.answer(text)
        elif event.message is not None and text:
            await event.message.answer(text)
        log.info("flood from user %s: update %s refused", key, event.update_id)


class ActorMiddleware(BaseMiddleware):
    """Resolve the person behind the update and hand handlers a core Context as `ctx`."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or user.is_bot:
            return None
        chat = data.get("event_chat")
        private = chat is not None and chat.type == "private"
        # Whether the bot may write to them (Telegram forbids writing first): a message or a
        # tap in their private chat with the bot says yes; one in a group chat says nothing
        # yet (False for someone new: they are asked to start the bot); None without a chat.
        data["ctx"] = await context_for(
            self.services,
            platform=PLATFORM,
            external_id=str(user.id),
            display_name=user.full_name,
            username=user.username,
            platform_locale=user.language_code,
            private_chat=private if chat is not None else None,
            in_group_chat=chat is not None and not private,
            chat_id=str(chat.id) if chat is not None else None,
        )
        return await handler(event, data)
