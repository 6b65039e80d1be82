"""What was read a moment ago, kept for a short while so the next update need not read it again.

The caches of the hot paths (the actors of updates, /nearby's areas) share their rules here:
- an entry lives `ttl`, the bound on how late another process's change shows;
- at most `size` entries, the least recently used out first;
- what this process changes is forgotten at once (`forget`, after the commit);
- a read that began before a forget is not stored after it (`generation`): it may hold what
  the change replaced.
A clock that went back (a test's) misses.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


@dataclass
class Recent(Generic[K, V]):
    ttl: timedelta = timedelta(seconds=15)
    size: int = 1_000
    generation: int = 0  # moves on each forget
    _entries: OrderedDict[K, tuple[datetime, V]] = field(default_factory=OrderedDict)

    def get(self, key: K, now: datetime) -> V | None:
        found = self._entries.get(key)
        if found is None or now - found[0] > self.ttl or now < found[0]:
            return None
        self._entries.move_to_end(key)
        return found[1]

    def put(self, key: K, now: datetime, value: V, since: int) -> None:
        """Store what a read that began at generation `since` read."""
        if since != self.generation:
            return
        self._entries[key] = (now, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def forget(self, which: Callable[[V], bool] | None = None) -> None:
        """Forget the entries `which` picks, or all."""
        self.generation += 1
        if which is None:
            self._entries.clear()
            return
        gone = [key for key, (_, value) in self._entries.items() if which(value)]
        for key in gone:
            del self._entries[key]
