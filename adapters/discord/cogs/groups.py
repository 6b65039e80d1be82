"""Group commands: /groups, /group, /join, /leave, /mygroups, /newgroup, /bindgroup, and the
admin ones: /requests, /ban, /unban, /promote, /demote, /transfer, /grouptimezone,
/memberevents, /reports."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord
from discord import app_commands
from discord.ext import commands

from adapters.discord.interactions import answer, run_command, services_of
from adapters.discord.options import describe, group_names, localized
from core.cards import Reply, note
from core.chat.registry import Context, guarded
from core.i18n import N_
from core.services import chats, people

ON_OFF = [app_commands.Choice(name="on", value="on"), app_commands.Choice(name="off", value="off")]


class Groups(commands.Cog):
    @app_commands.command(name="groups", description=describe("groups"))
    @localized
    async def groups(self, interaction: discord.Interaction, search: str = "") -> None:
        await run_command(interaction, f"/groups {search}")

    @app_commands.command(name="group", description=describe("group"))
    @app_commands.autocomplete(group=group_names)
    @localized
    async def group(self, interaction: discord.Interaction, group: str) -> None:
        await run_command(interaction, f"/group {group}")

    @app_commands.command(name="join", description=describe("join"))
    @app_commands.autocomplete(group=group_names)
    @localized
    async def join(self, interaction: discord.Interaction, group: str = "") -> None:
        await run_command(interaction, f"/join {group}")

    @app_commands.command(name="leave", description=describe("leave"))
    @app_commands.autocomplete(group=group_names)
    @localized
    async def leave(self, interaction: discord.Interaction, group: str = "") -> None:
        await run_command(interaction, f"/leave {group}")

    @app_commands.command(name="mygroups", description=describe("mygroups"))
    @localized
    async def mygroups(self, interaction: discord.Interaction) -> None:
        await run_command(interaction, "/mygroups")

    @app_commands.command(name="newgroup", description=describe("newgroup"))
    @localized
    async def newgroup(
        self,
        interaction: discord.Interaction,
        name: str,
        description: str = "",
        tags: str = "",
        private: bool = False,
    ) -> None:
        fields = [name, description, tags] + (["private"] if private else [])
        await run_command(
            interaction, "/newgroup " + " | ".join(f.replace("|", "/") for f in fields)
        )

    @app_commands.command(name="requests", description=describe("requests"))
    @app_commands.autocomplete(group=group_names)
    @localized
    async def requests(self, interaction: discord.Interaction, group: str = "") -> None:
        await run_command(interaction, f"/requests {group}")

    @app_commands.command(name="ban", description=describe("ban"))
    @app_commands.autocomplete(group=group_names)
    @localized
    async def ban(self, interaction: discord.Interaction, group: str, person: discord.User) -> None:
        await run_command(interaction, f"/ban {group} | {await _member(interaction, person)}")

    @app_commands.command(name="unban", description=describe("unban"))
    @app_commands.autocomplete(group=group_names)
    @localized
    async def unban(
        self, interaction: discord.Interaction, group: str, person: discord.User
    ) -> None:
        await run_command(interaction, f"/unban {group} | {await _member(interaction, person)}")

    @app_commands.command(name="promote", description=describe("promote"))
    @app_commands.autocomplete(group=group_names)
    @localized
    async def promote(
        self, interaction: discord.Interaction, group: str, person: discord.User
    ) -> None:
        await run_command(interaction, f"/promote {group} | {await _member(interaction, person)}")

    @app_commands.command(name="demote", description=describe("demote"))
    @app_commands.autocomplete(group=group_names)
    @localized
    async def demote(
        self, interaction: discord.Interaction, group: str, person: discord.User
    ) -> None:
        await run_command(interaction, f"/demote {group} | {await _member(interaction, person)}")

    @app_commands.command(name="transfer", description=describe("transfer"))
    @app_commands.autocomplete(group=group_names)
    @localized
    async def transfer(
        self, interaction: discord.Interaction, group: str, person: discord.User
    ) -> None:
        await run_command(interaction, f"/transfer {group} | {await _member(interaction, person)}")

    @app_commands.command(name="reports", description=describe("reports"))
    @localized
    async def reports(self, interaction: discord.Interaction) -> None:
        await run_command(interaction, "/reports")

    @app_commands.command(name="grouptimezone", description=describe("grouptimezone"))
    @app_commands.autocomplete(group=group_names)
    @localized
    async def grouptimezone(
        self, interaction: discord.Interaction, group: str, timezone: str
    ) -> None:
        await run_command(interaction, f"/grouptimezone {group} | {timezone}")

    @app_commands.command(name="memberevents", description=describe("memberevents"))
    @app_commands.autocomplete(group=group_names)
    @app_commands.choices(allowed=ON_OFF)
    @localized
    async def memberevents(
        self, interaction: discord.Interaction, group: str, allowed: app_commands.Choice[str]
    ) -> None:
        await run_command(interaction, f"/memberevents {group} | {allowed.value}")

    @app_commands.command(
        name="bindgroup",
        description=app_commands.locale_str(
            N_("Make this channel a group's home (server managers)")
        ),
    )
    @app_commands.autocomplete(group=group_names)
    @localized
    async def bindgroup(self, interaction: discord.Interaction, group: str) -> None:
        async def bind(ctx: Context) -> str:
            async with ctx.uow() as uow:
                found = await chats.bind_home_chat(
                    uow,
                    ctx.me,
                    group,
                    platform="discord",
                    chat_id=str(interaction.channel_id),
                    locale=ctx.t.locale,
                )
            return ctx.t(
                "This chat is now the home of {group}: new activities and posts appear here.",
                group=found.name,
            )

        await _as_server_manager(interaction, bind)

    @app_commands.command(
        name="unbindgroup",
        description=app_commands.locale_str(
            N_("Stop announcing a group in this channel (server managers)")
        ),
    )
    @app_commands.autocomplete(group=group_names)
    @localized
    async def unbindgroup(self, interaction: discord.Interaction, group: str) -> None:
        async def unbind(ctx: Context) -> str:
            async with ctx.uow() as uow:
                found = await chats.unbind_home_chat(
                    uow, ctx.me, group, platform="discord", chat_id=str(interaction.channel_id)
                )
            return ctx.t("This chat is no longer a home of {group}.", group=found.name)

        await _as_server_manager(interaction, unbind)


async def _as_server_manager(
    interaction: discord.Interaction, change: Callable[[Context], Awaitable[str]]
) -> None:
    """Both checks matter: a server manager who is not a group admin could hijack a group's
    announcements, and a group admin who is not a manager could spam someone's server (the
    service checks the group side)."""
    if interaction.guild is None or not interaction.permissions.manage_guild:

        async def refuse(ctx: Context) -> Reply:
            text = ctx.t("Only people who manage this server can do that, in a server channel.")
            return Reply(cards=[note(text)])

        await answer(interaction, refuse)
        return

    async def run(ctx: Context) -> Reply:
        return Reply(cards=[note(await change(ctx))])

    await answer(interaction, lambda ctx: guarded(ctx, lambda: run(ctx)))


async def _member(interaction: discord.Interaction, user: discord.User) -> str:
    """The picked Discord user as core names a person: their number when the bot knows them
    (never confused with someone else of the same name), else their @username."""
    services = services_of(interaction)
    async with services.db.uow(readonly=True) as uow:
        identity = await people.find_identity(uow, "discord", str(user.id))
    return f"#{identity.person_id}" if identity is not None else f"@{user.name}"
