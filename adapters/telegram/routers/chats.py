"""Group chats: /bindgroup makes a Telegram group the home of a community group."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from adapters.telegram.replies import send_card
from adapters.telegram.routers.filters import When
from core.cards import note
from core.chat.registry import Context
from core.errors import DomainError
from core.services import chats

CHAT_ADMINS = ("administrator", "creator")


async def bind_in_private(message: Message, bot: Bot, ctx: Context) -> None:
    text = ctx.t("Run /bindgroup <group> inside the Telegram group chat that should be its home.")
    await send_card(bot, message.chat.id, note(text))


async def bind_group(message: Message, command: CommandObject, bot: Bot, ctx: Context) -> None:
    """Both checks matter: a chat admin who is not a group admin could hijack announcements,
    and a group admin who is not a chat admin could spam someone else's chat."""
    member = await bot.get_chat_member(message.chat.id, message.from_user.id)  # type: ignore[union-attr]
    if member.status not in CHAT_ADMINS:
        await send_card(bot, message.chat.id, note(ctx.t("Only this chat's admins can do that.")))
        return
    try:
        async with ctx.uow() as uow:
            group = await chats.bind_home_chat(
                uow,
                ctx.me,
                command.args or "",
                platform="telegram",
                chat_id=str(message.chat.id),
                locale=ctx.t.locale,
            )
    except DomainError as error:
        await send_card(bot, message.chat.id, note("⚠️ " + error.render(ctx.t)))
        return
    text = ctx.t(
        "This chat is now the home of {group}: new activities and posts appear here.",
        group=group.name,
    )
    await send_card(bot, message.chat.id, note(text))


def build() -> Router:
    router = Router(name="chats")
    router.message.register(bind_in_private, Command("bindgroup"), When(F.chat.type == "private"))
    router.message.register(bind_group, Command("bindgroup"))
    return router
