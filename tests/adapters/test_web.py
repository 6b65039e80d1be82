"""The bot's web server over real HTTP: /healthz answers for the database and each platform,
/metrics shows what the bot counted."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from adapters.web import build_app
from core.chat import Services
from tests.harness import TelegramHarness


async def _client(services: Services) -> TestClient:
    client = TestClient(TestServer(build_app(services)))
    await client.start_server()
    return client


async def test_healthz_is_200_when_every_check_passes_and_503_otherwise(services) -> None:
    client = await _client(services)
    try:
        ok = await client.get("/healthz")
        assert ok.status == 200
        assert await ok.json() == {"ok": True, "checks": {"database": True}}

        async def down() -> bool:
            raise ConnectionError("platform unreachable")

        services.health["telegram"] = down
        sick = await client.get("/healthz")
        assert sick.status == 503
        assert (await sick.json())["checks"] == {"database": True, "telegram": False}
    finally:
        await client.close()


async def test_metrics_count_updates_sends_and_throttles(tg: TelegramHarness) -> None:
    maya = tg.emu.add_user(1, "Maya")
    await tg.say(maya, "/newgroup Hiking")
    client = await _client(tg.services)
    try:
        page = await (await client.get("/metrics")).text()
    finally:
        await client.close()
    assert 'community_sends_total{method="SendMessage",platform="telegram"}' in page
    assert "community_throttled_total" in page
    assert "community_reminders_total" in page
