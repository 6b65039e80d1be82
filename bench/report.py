"""What the benchmarks share: their printed tables, their timed windows' heap."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

from bots.cli import settle_heap


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """A timed window with the heap as `community-bot run` keeps it once started (frozen
    after start-up, here after the bench's seeding), thawed again afterwards."""
    settle_heap()
    try:
        yield
    finally:
        gc.unfreeze()


def row(cells: list[str], widths: list[int]) -> str:
    """One table row: the first cell left-aligned, the figures after it right-aligned."""
    return "  ".join(
        cell.ljust(w) if i == 0 else cell.rjust(w)
        for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
    )
