"""Keeping within Telegram's rate limits before Telegram has to refuse anything, and waiting
out its 429s when it refuses anyway. Every outgoing send or edit passes through here (a
request middleware), so replies, announcements and reminders share one budget.

- Overall: at most `per_second` sends whose answers came back within any one second. A sliding
  window over completed sends, not a token bucket: a bucket lets `burst + rate` through in a
  second after a pause, about twice the limit, and Telegram then answers 429 and goes silent.
  Counting completions also keeps network jitter from packing two windows' sends into one.
- Per chat: a small token bucket (about 1 message/s in a private chat with bursts of 3, so a
  card and its map arrive together; 20 a minute in a group chat).
- A 429 holds its scope (that chat, or the whole bot) for its `retry_after`: the request is
  retried after it, and no other sender uses the scope meanwhile.

This Pacer counts one process's sends. Several processes of one bot share one budget through
Redis instead (`shared_pacing.SharedPacer`, when REDIS_URL is set), with the same rules.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

from core.metrics import SENDS, THROTTLED
from core.notify import NotNow, is_quiet

if TYPE_CHECKING:
    from adapters.telegram.shared_pacing import SharedPacer

log = logging.getLogger(__name__)
HOLD_MARGIN = 0.05  # seconds beyond retry_after, so a retry never arrives a hair early
# Seconds a background send (a card redraw) waits at most for its chat's own limit; beyond,
# it is refused (core.notify.NotNow) and comes back when the chat is ready, so a group chat's
# 20 a minute never holds up the redraw of the same card's other copies.
QUIET_PATIENCE = 1.0


@dataclass
class Bucket:
    rate: float  # tokens per second
    burst: float
    tokens: float = -1.0
    stamp: float = 0.0

    def ready_at(self, now: float) -> float:
        if self.tokens < 0:
            self.tokens, self.stamp = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return now if self.tokens >= 1 else now + (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


@dataclass
class Window:
    """At most `limit` requests in flight or completed within the last `period` seconds."""

    limit: int
    period: float = 1.0
    completed: deque[float] = field(default_factory=deque)
    in_flight: int = 0

    def ready_at(self, now: float) -> float:
        while self.completed and now - self.completed[0] >= self.period:
            self.completed.popleft()
        if len(self.completed) + self.in_flight < self.limit:
            return now
        if self.completed:
            return self.completed[0] + self.period
        return now + 0.01  # everything is in flight: look again shortly


@dataclass
class Pacer:
    per_second: float = 30.0
    per_chat_per_second: float = 1.0
    chat_burst: float = 3.0
    group_per_minute: float = 20.0
    overall: Window = field(init=False)
    chats: dict[str, Bucket] = field(default_factory=dict)
    holds: dict[str | None, float] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    answers_waiting: int = 0

    def __post_init__(self) -> None:
        self.overall = Window(max(1, int(self.per_second)))

    def _bucket(self, chat_id: str) -> Bucket:
        bucket = self.chats.get(chat_id)
        if bucket is None:
            if len(self.chats) > 50_000:
                self.chats.clear()  # idle buckets are full anyway; forgetting them is safe
            if chat_id.startswith("-"):  # a group: no burst, so no 60 s holds more than the limit
                bucket = Bucket(self.group_per_minute / (60 + 60 / self.group_per_minute), 1)
            else:
                bucket = Bucket(self.per_chat_per_second, self.chat_burst)
            self.chats[chat_id] = bucket
        return bucket

    async def acquire(self, chat_id: str, *, quiet: bool = False) -> None:
        """Wait for a slot. `quiet` (a background card redraw) also waits while any answer is
        waiting: redraws use what the answers leave of the budget, never the other way; and
        it is refused (NotNow) when the chat itself is not ready within QUIET_PATIENCE."""
        waiting = not quiet
        if waiting:
            self.answers_waiting += 1
        try:
            while True:
                async with self.lock:
                    now = time.monotonic()
                    bucket = self._bucket(chat_id)
                    chat_ready = max(
                        bucket.ready_at(now),
                        self.holds.get(None, 0.0),
                        self.holds.get(chat_id, 0.0),
                    )
                    if quiet and chat_ready - now > QUIET_PATIENCE:
                        raise NotNow(chat_ready - now)
                    ready = max(self.overall.ready_at(now), chat_ready)
                    if quiet and self.answers_waiting:
                        ready = max(ready, now + 0.02)
                    if ready <= now:
                        bucket.take()
                        self.overall.in_flight += 1
                        return
                await asyncio.sleep(ready - now)
        finally:
            if waiting:
                self.answers_waiting -= 1

    def release(self) -> None:
        self.overall.in_flight -= 1
        self.overall.completed.append(time.monotonic())

    async def hold(self, chat_id: str | None, seconds: float) -> None:
        until = time.monotonic() + seconds + HOLD_MARGIN
        self.holds[chat_id] = max(self.holds.get(chat_id, 0.0), until)


class PacingMiddleware(BaseRequestMiddleware):
    """Paces sends and edits through the Pacer; on a 429, holds the scope and retries."""

    def __init__(self, pacer: Pacer | SharedPacer, attempts: int = 5) -> None:
        self.pacer = pacer
        self.attempts = attempts
        self.order: dict[str, asyncio.Lock] = {}  # per chat: sends in the order asked for
        self.users: dict[str, int] = {}  # per chat: sends holding or waiting for its lock

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        chat_id = getattr(method, "chat_id", None)
        name = type(method).__name__
        paced = chat_id is not None and (name.startswith("Send") or name.startswith("Edit"))
        if not paced or is_quiet():  # background redraws need no place in the chat's order
            return await self._send(make_request, bot, method, name, chat_id, paced)
        key = str(chat_id)
        lock = self.order.setdefault(key, asyncio.Lock())
        self.users[key] = self.users.get(key, 0) + 1
        try:
            async with lock:  # replies sent in the background keep the order they were made in
                return await self._send(make_request, bot, method, name, chat_id, paced)
        finally:
            self.users[key] -= 1
            if not self.users[key]:
                del self.users[key], self.order[key]

    async def _send(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
        name: str,
        chat_id: object,
        paced: bool,
    ) -> Response[TelegramType]:
        for attempt in range(1, self.attempts + 1):
            if paced:
                await self.pacer.acquire(str(chat_id), quiet=is_quiet())
            try:
                response = await make_request(bot, method)
                if paced:
                    SENDS.labels("telegram", name).inc()
                return response
            except TelegramRetryAfter as error:
                THROTTLED.labels("telegram").inc()
                if attempt == self.attempts:
                    raise
                log.warning("429 on %s: holding for %ss", name, error.retry_after)
                await self.pacer.hold(
                    str(chat_id) if chat_id is not None else None, error.retry_after
                )
                if not paced:
                    await asyncio.sleep(error.retry_after + HOLD_MARGIN)
            finally:
                if paced:
                    self.pacer.release()
        raise AssertionError("unreachable")
