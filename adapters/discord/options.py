"""Slash-command pieces shared by the cogs: descriptions from the core, autocomplete."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.app_commands import locale_str

from adapters.discord.interactions import context_of
from core.chat import COMMANDS
from core.i18n import Translator
from core.services import events, groups


def describe(name: str) -> locale_str:
    """A command's description is its core help text, translated by CatalogTranslator."""
    return locale_str(COMMANDS[name].help)


async def group_names(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    ctx = await context_of(interaction, shared=False)
    async with ctx.uow(readonly=True) as uow:
        found = await groups.search_groups(uow, ctx.me, current, limit=25)
    return [app_commands.Choice(name=s.group.name[:100], value=s.group.slug) for s in found]


async def activity_names(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[int]]:
    """The soonest upcoming activities whose "#id title" contains what was typed (filtered
    from more than Discord shows, 25, so a match further out is still offered)."""
    ctx = await context_of(interaction, shared=False)
    async with ctx.uow(readonly=True) as uow:
        found = await events.upcoming(uow, ctx.clock, ctx.me, limit=100)
    text = current.lower().strip()
    return [
        app_commands.Choice(name=f"#{v.event.id} {v.event.title}"[:100], value=v.event.id)  # type: ignore[arg-type]
        for v in found
        if text in f"#{v.event.id} {v.event.title}".lower()
    ][:25]


class CatalogTranslator(app_commands.Translator):
    """Command descriptions in the user's Discord language, from the core catalogs."""

    async def translate(
        self,
        string: locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        t = Translator(str(locale))
        if t.locale == "en":
            return None
        text = t(string.message)
        return text if text != string.message else None
