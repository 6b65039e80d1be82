"""The adapters' test fixtures: each platform's real client against its local emulator, over
the test's SQLite database and frozen clock."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator

import pytest

from core.chat import Services
from tests.discord_harness import DiscordHarness, errors_logged
from tests.emulators.telegram import TelegramEmulator
from tests.harness import TelegramHarness


@pytest.fixture
async def tg(sqlite_db, clock, settings) -> AsyncIterator[TelegramHarness]:
    async with TelegramEmulator() as emu:
        harness = TelegramHarness(emu, Services(db=sqlite_db, clock=clock, settings=settings))
        await harness.start()
        try:
            yield harness
        finally:
            await harness.stop()


@pytest.fixture
async def dc(sqlite_db, clock, settings) -> AsyncIterator[DiscordHarness]:
    services = Services(db=sqlite_db, clock=clock, settings=settings)
    async with DiscordHarness.running(services) as harness:
        yield harness


@pytest.fixture
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail on handler exceptions, pending tasks and unclosed sessions logged in the test (the
    Discord modules use it for every test: `pytestmark`)."""
    yield
    gc.collect()
    records = [*caplog.get_records("setup"), *caplog.get_records("call"), *caplog.records]
    assert not errors_logged(records)
