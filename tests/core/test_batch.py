"""Group commit (core.batch): items added about the same moment share one write, and one bad
item costs the others nothing."""

from __future__ import annotations

import asyncio

import pytest

from core.batch import Batch


class Ledger:
    """A writer that keeps each call's items, refusing any batch holding a "bad" one."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    async def write(self, items: list[str]) -> None:
        self.calls.append(items)
        await asyncio.sleep(0)  # a real write awaits its database
        if "bad" in items:
            raise ValueError("refused")

    @property
    def written(self) -> list[str]:
        return [item for call in self.calls if "bad" not in call for item in call]


async def test_items_added_together_are_written_in_one_call() -> None:
    ledger = Ledger()
    batch = Batch(ledger.write, delay=0.01)
    await asyncio.gather(*(batch.add(f"claim {n}") for n in range(5)))
    assert ledger.calls == [[f"claim {n}" for n in range(5)]]

    await batch.add("later")  # a new moment, a new write
    assert ledger.calls[-1] == ["later"]


async def test_a_full_batch_is_written_without_waiting_for_the_delay() -> None:
    ledger = Ledger()
    batch = Batch(ledger.write, delay=60, most=3)
    async with asyncio.timeout(5):
        await asyncio.gather(*(batch.add(str(n)) for n in range(3)))
    assert ledger.calls == [["0", "1", "2"]]


async def test_a_bad_item_fails_alone_and_the_others_are_written() -> None:
    ledger = Ledger()
    batch = Batch(ledger.write, delay=0.01)
    results = await asyncio.gather(
        batch.add("a"), batch.add("bad"), batch.add("b"), return_exceptions=True
    )
    assert [type(r) for r in results] == [type(None), ValueError, type(None)]
    assert sorted(ledger.written) == ["a", "b"]


async def test_an_item_whose_adder_gave_up_is_still_written() -> None:
    ledger = Ledger()
    batch = Batch(ledger.write, delay=0.05)
    waiting = asyncio.ensure_future(batch.add("claim"))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await batch.add("next")
    assert ledger.written == ["claim", "next"]
