"""Slash-command pieces shared by the cogs: descriptions from the core, autocomplete."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import discord
from discord import app_commands
from discord.app_commands import locale_str

from adapters.discord.interactions import context_of
from core.chat import COMMANDS
from core.i18n import Translator
from core.services import events, groups
from core.services.series import MAX_OCCURRENCES
from core.validation import MAX_ID

P = ParamSpec("P")
T = TypeVar("T")

# Integer options with their bounds: Discord's client refuses a number outside them before it
# is sent (an activity "-5", a series of "-3" times), as it does a word in a number option.
#: a row's number: an activity, a post, a reply
Id = app_commands.Range[int, 1, MAX_ID]
#: a page of a list, from 1 (one past the last shows the last)
Page = app_commands.Range[int, 1, MAX_ID]
#: how many occurrences a series has in all
Times = app_commands.Range[int, 2, MAX_OCCURRENCES]


#: Option names as Discord shows them to people whose client speaks Chinese. Discord wants an
#: option name in lowercase letters or digits, one word of at most 32: these are not sentences
#: for the catalogs, and every option of every command is listed (tests check it).
OPTION_NAMES = {
    "zh": {
        "activity": "活动",
        "allowed": "允许",
        "code": "代码",
        "description": "简介",
        "discoverable": "可被发现",
        "field": "字段",
        "group": "群组",
        "how": "频率",
        "language": "语言",
        "name": "名字",
        "page": "页",
        "person": "成员",
        "platform": "平台",
        "post": "帖子",
        "private": "私密",
        "radius_km": "半径公里",
        "reminders": "提醒",
        "reply": "回复",
        "reset": "重置",
        "search": "搜索",
        "tags": "标签",
        "text": "内容",
        "timezone": "时区",
        "times": "次数",
        "until": "截止",
        "value": "值",
        "where": "地点",
    }
}


def localized(func: Callable[P, T]) -> Callable[P, T]:
    """Every option of the command gets a translatable name (CatalogTranslator gives it from
    OPTION_NAMES); the handler's parameters keep their English names."""
    names = [n for n in inspect.signature(func).parameters if n not in ("self", "interaction")]
    return app_commands.rename(**{n: locale_str(n) for n in names})(func)  # type: ignore[return-value]


def describe(name: str) -> locale_str:
    """A command's description is its core help text, translated by CatalogTranslator."""
    return locale_str(COMMANDS[name].help)


async def group_names(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    ctx = await context_of(interaction, shared=False)
    async with ctx.uow(readonly=True) as uow:
        found = await groups.search_groups(uow, ctx.me, current, limit=25)
    return [app_commands.Choice(name=s.group.name[:100], value=s.group.ref) for s in found]


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
        if context.location == app_commands.TranslationContextLocation.parameter_name:
            return OPTION_NAMES.get(t.locale, {}).get(string.message)
        text = t(string.message)
        return text if text != string.message else None
