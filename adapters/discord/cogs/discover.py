"""Discovery commands: /setlocation, /nearby, /recommend, /interests, /companions, /blocked.

Discord has no location sharing: a location is typed ("52.52, 13.40") or pasted as a map link.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from adapters.discord.interactions import run_command
from adapters.discord.options import describe, group_names, localized


class Discover(commands.Cog):
    @app_commands.command(name="setlocation", description=describe("setlocation"))
    @localized
    async def setlocation(self, interaction: discord.Interaction, where: str) -> None:
        await run_command(interaction, f"/setlocation {where}")

    @app_commands.command(name="nearby", description=describe("nearby"))
    @localized
    async def nearby(
        self, interaction: discord.Interaction, radius_km: app_commands.Range[int, 1, 200] = 10
    ) -> None:
        await run_command(interaction, f"/nearby {radius_km}")

    @app_commands.command(name="recommend", description=describe("recommend"))
    @localized
    async def recommend(self, interaction: discord.Interaction) -> None:
        await run_command(interaction, "/recommend")

    @app_commands.command(name="interests", description=describe("interests"))
    @localized
    async def interests(self, interaction: discord.Interaction, tags: str = "") -> None:
        await run_command(interaction, f"/interests {tags}")

    @app_commands.command(name="companions", description=describe("companions"))
    @app_commands.autocomplete(group=group_names)
    @localized
    async def companions(self, interaction: discord.Interaction, group: str = "") -> None:
        await run_command(interaction, f"/companions {group}")

    @app_commands.command(name="blocked", description=describe("blocked"))
    @localized
    async def blocked(self, interaction: discord.Interaction) -> None:
        await run_command(interaction, "/blocked")
