"""Keeping within Telegram's rate limits before Telegram has to refuse anything.

Token buckets, one overall (about 30 messages/s), one per private chat (about 1/s, small
bursts allowed) and one per group chat (20 a minute). Every outgoing send or edit reserves a
slot here first (a request middleware), so replies, announcements and reminders all share one
budget. A 429 that still happens is waited out by RetryAfterMiddleware.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType


@dataclass
class Bucket:
    rate: float  # tokens per second
    burst: float
    tokens: float = -1.0
    stamp: float = 0.0

    def reserve(self, now: float) -> float:
        """Take a token; return when it is available (possibly in the future)."""
        if self.tokens < 0:
            self.tokens, self.stamp = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= 1
        return now if self.tokens >= 0 else now + (-self.tokens) / self.rate


@dataclass
class Pacer:
    per_second: float = 30.0
    per_chat_per_second: float = 1.0
    chat_burst: float = 3.0
    group_per_minute: float = 20.0
    overall: Bucket = field(init=False)
    chats: dict[str, Bucket] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.overall = Bucket(self.per_second, max(1.0, self.per_second))

    def _bucket(self, chat_id: str) -> Bucket:
        bucket = self.chats.get(chat_id)
        if bucket is None:
            if len(self.chats) > 50_000:
                self.chats.clear()  # idle buckets are full anyway; forgetting them is safe
            group = chat_id.startswith("-")
            bucket = (
                Bucket(self.group_per_minute / 60, self.chat_burst)
                if group
                else Bucket(self.per_chat_per_second, self.chat_burst)
            )
            self.chats[chat_id] = bucket
        return bucket

    async def wait(self, chat_id: str) -> None:
        async with self.lock:
            now = time.monotonic()
            ready = max(self.overall.reserve(now), self._bucket(chat_id).reserve(now))
        if ready > now:
            await asyncio.sleep(ready - now)


class PacingMiddleware(BaseRequestMiddleware):
    """Applies the Pacer to every method that sends or edits a message in a chat."""

    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        chat_id = getattr(method, "chat_id", None)
        name = type(method).__name__
        if chat_id is not None and (name.startswith("Send") or name.startswith("Edit")):
            await self.pacer.wait(str(chat_id))
        return await make_request(bot, method)
