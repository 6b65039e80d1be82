"""Post commands: /post, /posts, /reply, /replies, /editpost, /deletereply."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from adapters.discord.interactions import run_command
from adapters.discord.options import Id, Page, describe, group_names, localized


class Posts(commands.Cog):
    @app_commands.command(name="post", description=describe("post"))
    @app_commands.autocomplete(group=group_names)
    @localized
    async def post(self, interaction: discord.Interaction, group: str, text: str) -> None:
        await run_command(interaction, f"/post {group} | {text}")

    @app_commands.command(name="posts", description=describe("posts"))
    @app_commands.autocomplete(group=group_names)
    @localized
    async def posts(
        self, interaction: discord.Interaction, group: str = "", page: Page = 1
    ) -> None:
        await run_command(interaction, f"/posts {group} {page}" if group else "/posts")

    @app_commands.command(name="reply", description=describe("reply"))
    @localized
    async def reply(self, interaction: discord.Interaction, post: Id, text: str) -> None:
        # "|" ends the target in core's parsing, so the text after it is taken whole.
        await run_command(interaction, f"/reply {post} {text}")

    @app_commands.command(name="replies", description=describe("replies"))
    @localized
    async def replies(self, interaction: discord.Interaction, post: Id) -> None:
        await run_command(interaction, f"/replies {post}")

    @app_commands.command(name="editpost", description=describe("editpost"))
    @localized
    async def editpost(self, interaction: discord.Interaction, post: Id, text: str) -> None:
        await run_command(interaction, f"/editpost {post} {text}")

    @app_commands.command(name="deletereply", description=describe("deletereply"))
    @localized
    async def deletereply(self, interaction: discord.Interaction, reply: Id) -> None:
        await run_command(interaction, f"/deletereply {reply}")
