"""/help, /settings, /link, /unlink."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from adapters.discord.interactions import run_command
from adapters.discord.options import describe, localized
from core.i18n import N_

LANGUAGES = [
    app_commands.Choice(name="English", value="en"),
    app_commands.Choice(name="中文", value="zh"),
    # none of one's own: answers, notices and reminders follow the Discord app's language
    app_commands.Choice(name=N_("Auto: your Discord language"), value="auto"),
]
PLATFORMS = [
    app_commands.Choice(name="Telegram", value="telegram"),
    app_commands.Choice(name="Discord", value="discord"),
    app_commands.Choice(name="auto", value="auto"),
]


class Account(commands.Cog):
    @app_commands.command(name="help", description=describe("help"))
    @localized
    async def help(self, interaction: discord.Interaction) -> None:
        await run_command(interaction, "/help")

    @app_commands.command(name="settings", description=describe("settings"))
    @app_commands.choices(language=LANGUAGES, platform=PLATFORMS)
    @localized
    async def settings(
        self,
        interaction: discord.Interaction,
        language: app_commands.Choice[str] | None = None,
        timezone: str = "",
        reminders: str = "",
        discoverable: bool | None = None,
        name: str = "",
        platform: app_commands.Choice[str] | None = None,
    ) -> None:
        """One setting at a time is what the core command takes; a change shows the result.
        `platform`: where messages reach a person with linked accounts first."""
        if name:
            text = f"/settings name {name}"
        elif discoverable is not None:
            text = f"/settings discoverable {'on' if discoverable else 'off'}"
        elif language is not None:
            text = f"/settings language {language.value}"
        elif timezone:
            text = f"/settings timezone {timezone}"
        elif reminders:
            text = f"/settings reminders {reminders}"
        elif platform is not None:
            text = f"/settings platform {platform.value}"
        else:
            text = "/settings"
        await run_command(interaction, text)

    @app_commands.command(name="link", description=describe("link"))
    @localized
    async def link(self, interaction: discord.Interaction, code: str = "") -> None:
        await run_command(interaction, f"/link {code}".strip())

    @app_commands.command(name="unlink", description=describe("unlink"))
    @localized
    async def unlink(self, interaction: discord.Interaction) -> None:
        await run_command(interaction, "/unlink")
