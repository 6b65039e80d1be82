"""Small writes from many updates, committed together (group commit).

Some writes follow nearly every update and matter to nobody waiting: the claim of an update
that changed nothing (core.services.inbox), the record of a card just sent or clicked
(core.livecards). Each in a transaction of its own cost more than the update's own work: a
BEGIN, a COMMIT and the unit of work's setup, for one short statement. A `Batch` gathers the
items added within `delay` seconds and writes them in one transaction; each adder waits until
its item is written, and hears the writer's error as its own.

If a batch fails, each of its items is tried again alone, so one bad item (a card of an
activity deleted meanwhile) costs no other item its write.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from core.uow import detached

log = logging.getLogger(__name__)
T = TypeVar("T")

DELAY = 0.05  # seconds an item waits for others: unnoticed by anyone, a few to dozens a batch
MOST = 200  # items a batch at most (a statement's parameters stay far below SQLite's limit)


class Batch(Generic[T]):
    """Items written together by `write(items)`, one transaction per batch."""

    def __init__(
        self,
        write: Callable[[list[T]], Awaitable[None]],
        *,
        delay: float = DELAY,
        most: int = MOST,
    ) -> None:
        self._write = write
        self.delay, self.most = delay, most
        self._items: list[tuple[T, asyncio.Future[None]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._writing: set[asyncio.Task[None]] = set()

    async def add(self, item: T) -> None:
        """Write `item` with the others added about now; returns once it is written."""
        loop = asyncio.get_running_loop()
        written = loop.create_future()
        self._items.append((item, written))
        if len(self._items) >= self.most:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.delay, self._flush)
        await written

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        taken, self._items = self._items, []
        if taken:
            # detached: the batch's transaction carries no update's claim (core.uow.RIDER)
            task = detached(self._run(taken))
            self._writing.add(task)
            task.add_done_callback(self._writing.discard)

    async def _run(self, taken: list[tuple[T, asyncio.Future[None]]]) -> None:
        try:
            await self._write([item for item, _ in taken])
        except Exception as error:
            if len(taken) == 1:
                _settle(taken[0][1], error)
                return
            log.warning("a batch of %d failed (%s); writing each alone", len(taken), error)
            for one in taken:
                await self._run([one])
            return
        for _, written in taken:
            _settle(written, None)


def _settle(written: asyncio.Future[None], error: Exception | None) -> None:
    if written.done():  # its adder was cancelled: the item was written all the same
        return
    if error is None:
        written.set_result(None)
    else:
        written.set_exception(error)
