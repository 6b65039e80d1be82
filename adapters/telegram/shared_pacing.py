"""The send budget shared by every process of one bot, in Redis (REDIS_URL).

Telegram's limits are per bot, not per process: three processes each keeping to 30 messages a
second send 90. This pacer keeps the same rules as `pacing.Pacer` across processes, with the
`limits` library's moving windows in Redis (atomic, so two processes never both take the last
slot):

- overall: one send every 1/(0.8 × `per_second`) seconds, slots handed out in turn across
  processes (below);
- per chat: about 1 message a second in a private chat (bursts of `chat_burst`), at most
  `group_per_minute` a minute in a group chat;
- a 429 holds its scope (a chat, or the whole bot) for its `retry_after` in every process: a
  Redis key that expires when the hold ends.
"""

from __future__ import annotations

import asyncio
import time

from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from redis.asyncio import Redis

from adapters.telegram.pacing import HOLD_MARGIN, QUIET_PATIENCE
from core.notify import NotNow

NAMESPACE = "community:telegram"
# The overall budget as evenly spaced slots (GCRA: Redis keeps the time the next slot is free;
# each take reserves it and pushes it on by one interval). The library's windows count whole
# seconds, so a second's budget could be taken in one burst; sends bunched by the network and by
# busy event loops then reached Telegram inside the next second's burst (0 to 2 429s in 2,000
# updates across three processes). Evenly spaced sends stay within 30 a second unless delayed
# by more than a fifth of a second.
NEXT_SLOT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
if free < now then free = now end
redis.call('SET', KEYS[1], string.format('%.6f', free + tonumber(ARGV[1])), 'PX', 60000)
return string.format('%.6f', free - now)
"""
# The windows count a send when it is taken, Telegram when it arrives: sends taken together can
# arrive spread out, and the next window's first ones early. Waiting this much past a window's
# end keeps the two counts apart (measured: without it, 1 in 120 sends drew a 429).
JITTER = 0.05
SHARED_SHARE = 0.8  # of Telegram's overall limit, taken by all processes together


class SharedPacer:
    def __init__(
        self,
        redis_url: str,
        bot_key: str,
        *,
        per_second: float = 30.0,
        chat_burst: float = 3.0,
        group_per_minute: float = 20.0,
        namespace: str = NAMESPACE,
    ) -> None:
        """`bot_key`: the bot's id (the token's first part), so two bots never share."""
        storage = storage_from_string(f"async+{redis_url}", key_prefix=namespace)
        self.limiter = MovingWindowRateLimiter(storage)
        self.redis = Redis.from_url(redis_url)
        self.prefix = f"{namespace}:{bot_key}"
        # Counted when a send is taken, not when Telegram sees it: a fifth of the budget is kept
        # back for sends that arrive late (measured: docs/operations.md, "The send budget").
        self.interval = 1 / (per_second * SHARED_SHARE)
        self.next_slot = self.redis.register_script(NEXT_SLOT)
        self._slot_key = f"{self.prefix}:slot"
        burst = int(chat_burst)
        self.private = RateLimitItemPerSecond(burst, burst)  # 1/s sustained, bursts of `burst`
        self.group = RateLimitItemPerMinute(int(group_per_minute))

    def _hold_key(self, chat_id: str | None) -> str:
        return f"{self.prefix}:hold:{chat_id or '*'}"

    async def acquire(self, chat_id: str, *, quiet: bool = False) -> None:
        """As Pacer's: a `quiet` send is refused (NotNow) when the chat is not ready within
        QUIET_PATIENCE; across processes redraws and answers otherwise share the budget first
        come, first served."""
        per_chat = self.group if chat_id.startswith("-") else self.private
        while True:
            held = max(
                await self.redis.pttl(self._hold_key(None)),
                await self.redis.pttl(self._hold_key(chat_id)),
            )
            if quiet and held / 1000 > QUIET_PATIENCE:
                raise NotNow(held / 1000)
            if held > 0:
                await asyncio.sleep(held / 1000)
                continue
            # look before taking: a chat that is not ready must not spend the bot's budget
            wait = await self._wait(per_chat, "chat", chat_id, take=False)
            if quiet and wait > QUIET_PATIENCE:
                raise NotNow(wait)
            if wait <= 0:
                slot = float(await self.next_slot(keys=[self._slot_key], args=[self.interval]))
                if slot > 0:
                    await asyncio.sleep(slot)
                if await self._wait(per_chat, "chat", chat_id, take=True) <= 0:
                    return
                wait = 0.01  # another process took the chat's slot meanwhile (this one is lost)
            await asyncio.sleep(wait)

    async def _wait(self, item, *keys: str, take: bool) -> float:
        """0 when a slot is free (and taken if `take`), else the seconds until one frees."""
        identifiers = (self.prefix, *keys)
        if await (self.limiter.hit if take else self.limiter.test)(item, *identifiers):
            return 0.0
        stats = await self.limiter.get_window_stats(item, *identifiers)
        return max(0.01, stats.reset_time - time.time() + JITTER)

    def release(self) -> None:
        """Completions need no bookkeeping here: the moving windows count from the take."""

    async def hold(self, chat_id: str | None, seconds: float) -> None:
        milliseconds = int((seconds + HOLD_MARGIN) * 1000)
        key = self._hold_key(chat_id)
        current = await self.redis.pttl(key)
        if current < milliseconds:
            await self.redis.set(key, 1, px=milliseconds)

    async def close(self) -> None:
        await self.redis.aclose()
