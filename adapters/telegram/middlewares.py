"""aiogram middlewares: apply each update once, limit floods, name the actor.

(Outgoing requests are paced, and 429s waited out, in adapters/telegram/pacing.py.)
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, Update, User

from core.chat import Services
from core.chat.identity import context_for
from core.i18n import Translator
from core.services import inbox

log = logging.getLogger(__name__)
PLATFORM = "telegram"
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class OnceMiddleware(BaseMiddleware):
    """Apply an update at most once, even if Telegram delivers it again after a crash.

    A small in-memory window answers the common case; the database ledger (core.services.inbox)
    answers across restarts and across processes.
    """

    def __init__(self, services: Services, window: int = 4096) -> None:
        self.services = services
        self.window = window
        self.recent: OrderedDict[int, None] = OrderedDict()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        if event.update_id in self.recent:
            return None
        async with self.services.db.uow() as uow:
            first = await inbox.claim(uow, self.services.clock, PLATFORM, event.update_id)
        self.recent[event.update_id] = None  # only once claimed: a failed claim may come again
        if len(self.recent) > self.window:
            self.recent.popitem(last=False)
        if not first:
            log.info("update %s already applied; skipped", event.update_id)
            return None
        return await handler(event, data)


class FloodMiddleware(BaseMiddleware):
    """At most `limit` messages or clicks per person per `per` seconds; the rest are dropped,
    with one polite warning, so one person cannot starve everyone else."""

    def __init__(self, limit: int = 8, per: float = 4.0) -> None:
        self.limit, self.per = limit, per
        self.seen: dict[int, deque[float]] = {}
        self.warned: set[int] = set()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        now = time.monotonic()
        stamps = self.seen.setdefault(user.id, deque())
        while stamps and now - stamps[0] > self.per:
            stamps.popleft()
        if len(stamps) >= self.limit:
            if user.id not in self.warned:
                self.warned.add(user.id)
                t = Translator(user.language_code)
                text = t("Slow down a little, please.")
                if isinstance(event, CallbackQuery):
                    await event.answer(text)
                elif isinstance(event, Message):
                    await event.answer(text)
            elif isinstance(event, CallbackQuery):
                await event.answer()
            return None
        self.warned.discard(user.id)
        stamps.append(now)
        if len(self.seen) > 10_000:  # forget idle people
            self.seen = {k: v for k, v in self.seen.items() if v and now - v[-1] <= self.per}
        return await handler(event, data)


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
        data["ctx"] = await context_for(
            self.services,
            platform=PLATFORM,
            external_id=str(user.id),
            display_name=user.full_name,
            username=user.username,
            platform_locale=user.language_code,
            private_chat=private if isinstance(event, Message) else None,
            in_group_chat=chat is not None and not private,
            chat_id=str(chat.id) if chat is not None else None,
        )
        return await handler(event, data)
