"""The demo community is for trying the bot in the console, not for a real community: with a
platform token it is seeded only when asked (issue #12)."""

from __future__ import annotations

import pytest

from core.settings import Settings


@pytest.mark.parametrize(
    ("env", "seeds"),
    [
        ({}, True),  # the console chat: try it out
        ({"telegram_bot_token": "42:X"}, False),  # a real Telegram bot
        ({"discord_bot_token": "abc"}, False),  # a real Discord bot
        ({"telegram_bot_token": "42:X", "seed_demo": "true"}, True),  # a demo bot, on purpose
        ({"seed_demo": "false"}, False),
        ({"seed_demo": "auto", "discord_bot_token": "abc"}, False),
    ],
)
def test_the_demo_is_seeded_only_for_the_console_unless_asked(env: dict, seeds: bool) -> None:
    assert Settings(_env_file=None, **env).seeds_demo is seeds


def test_a_real_bot_starts_empty(tmp_path, monkeypatch) -> None:
    """End to end through the start-up code: no fake groups beside a platform token."""
    import asyncio

    from bots.cli import build_services
    from core.services import groups

    async def groups_after_start(**env) -> int:
        settings = Settings(
            _env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path}/{len(env)}.db", **env
        )
        services = await build_services(settings)
        try:
            async with services.db.uow(readonly=True) as uow:
                return len(await groups.search_groups(uow, 0))
        finally:
            await services.db.dispose()

    assert asyncio.run(groups_after_start(telegram_bot_token="42:X")) == 0
    assert asyncio.run(groups_after_start()) > 0
