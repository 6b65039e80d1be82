"""Post commands: /post, /posts, /reply, /replies."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from adapters.discord.interactions import run_command
from adapters.discord.options import describe, group_names


class Posts(commands.Cog):
    @app_commands.command(name="post", description=describe("post"))
    @app_commands.autocomplete(group=group_names)
    async def post(self, interaction: discord.Interaction, group: str, text: str) -> None:
        await run_command(interaction, f"/post {group} | {text}")

    @app_commands.command(name="posts", description=describe("posts"))
    @app_commands.autocomplete(group=group_names)
    async def posts(self, interaction: discord.Interaction, group: str = "", page: int = 1) -> None:
        await run_command(interaction, f"/posts {group} {page}" if group else "/posts")

    @app_commands.command(name="reply", description=describe("reply"))
    async def reply(self, interaction: discord.Interaction, post: int, text: str) -> None:
        # "|" ends the target in core's parsing, so the text after it is taken whole.
        await run_command(interaction, f"/reply {post} {text}")

    @app_commands.command(name="replies", description=describe("replies"))
    async def replies(self, interaction: discord.Interaction, post: int) -> None:
        await run_command(interaction, f"/replies {post}")
