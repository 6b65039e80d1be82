"""The discord.py client over the core: cogs, persistent buttons, command sync, the Notifier."""

from __future__ import annotations

import logging
import weakref
from typing import Any

import discord
from discord.ext import commands

from adapters.discord.buttons import ActionButton
from adapters.discord.cogs.account import Account
from adapters.discord.cogs.discover import Discover
from adapters.discord.cogs.events import Events
from adapters.discord.cogs.groups import Groups
from adapters.discord.cogs.posts import Posts
from adapters.discord.interactions import answer_click, answer_unrouted
from adapters.discord.notifier import DiscordNotifier
from adapters.discord.options import CatalogTranslator
from core.chat import Services

log = logging.getLogger(__name__)


class CommunityBot(commands.Bot):
    """Slash commands only (no message content intent needed). Mentions are off for every
    message it sends, so no user text can ping @everyone, a role or a person."""

    def __init__(
        self, services: Services, *, guild_ids: list[int] | None = None, **options: Any
    ) -> None:
        """`options` go to discord.Client (e.g. `guild_ready_timeout`)."""
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            **options,
        )
        self.services = services
        self.guild_ids = guild_ids or []
        # forms shown and not yet sent or timed out (interactions.open_modal), stopped on close
        self.forms: weakref.WeakSet[discord.ui.Modal] = weakref.WeakSet()

    async def setup_hook(self) -> None:
        for cog in (Groups(), Posts(), Events(), Discover(), Account()):
            await self.add_cog(cog)
        self.add_dynamic_items(ActionButton)  # cards posted before a restart keep working
        await self.tree.set_translator(CatalogTranslator())
        self.services.notifiers["discord"] = DiscordNotifier(self)
        if self.guild_ids:  # instant sync while developing; global sync can take an hour
            for guild_id in self.guild_ids:
                guild = discord.Object(id=guild_id)
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()

    async def answer_click(self, interaction: discord.Interaction, payload: str) -> None:
        """A card button was pressed (adapters/discord/buttons.py routes it here)."""
        await answer_click(interaction, payload)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Clicks discord.py drops (forged custom_ids) still get core's answer."""
        await answer_unrouted(interaction)

    async def close(self) -> None:
        """A form someone opened and never sent keeps discord.py's timeout (15 minutes)
        running: stopped here, it does not outlive the client."""
        for form in list(self.forms):
            form.stop()
        await super().close()

    async def on_ready(self) -> None:
        log.info("Discord: connected as %s to %d servers", self.user, len(self.guilds))


class ShardedCommunityBot(CommunityBot, commands.AutoShardedBot):
    """The same bot running some of the shards (`shard_ids` of `shard_count`): guilds are
    split across processes (DISCORD_SHARD_COUNT, DISCORD_SHARD_IDS)."""


def community_bot(services: Services, **options: Any) -> CommunityBot:
    """A sharded client when `shard_count` is given, else the plain one."""
    if options.get("shard_count"):
        return ShardedCommunityBot(services, **options)
    return CommunityBot(services, **options)


async def run_discord(bot: CommunityBot) -> None:
    """Connect a bot that has already logged in (see bots/cli.py: logging in first registers
    the Notifier, so reminders due at start-up can go out) and run until cancelled."""
    try:
        await bot.connect()
    finally:
        await bot.close()
