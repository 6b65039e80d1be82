"""Group chats: /bindgroup makes a Telegram group one of a community group's homes;
/unbindgroup stops announcing the group there."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from adapters.telegram.replies import send_card
from adapters.telegram.routers.filters import When
from core.cards import note
from core.chat.registry import Context
from core.errors import DomainError
from core.services import chats
from core.uow import UnitOfWork

CHAT_ADMINS = ("administrator", "creator")


async def bind_in_private(message: Message, bot: Bot, ctx: Context) -> None:
    text = ctx.t(
        "Run /bindgroup <group> (or /unbindgroup <group>) inside the Telegram group chat "
        "that should be (or stop being) its home."
    )
    await send_card(bot, message.chat.id, note(text))


async def bind_group(message: Message, command: CommandObject, bot: Bot, ctx: Context) -> None:
    async def bind(uow: UnitOfWork) -> str:
        group = await chats.bind_home_chat(
            uow,
            ctx.me,
            command.args or "",
            platform="telegram",
            chat_id=str(message.chat.id),
            locale=ctx.t.locale,
        )
        return ctx.t(
            "This chat is now the home of {group}: new activities and posts appear here.",
            group=group.name,
        )

    await _as_chat_admin(message, bot, ctx, bind)


async def unbind_group(message: Message, command: CommandObject, bot: Bot, ctx: Context) -> None:
    async def unbind(uow: UnitOfWork) -> str:
        group = await chats.unbind_home_chat(
            uow, ctx.me, command.args or "", platform="telegram", chat_id=str(message.chat.id)
        )
        return ctx.t("This chat is no longer a home of {group}.", group=group.name)

    await _as_chat_admin(message, bot, ctx, unbind)


async def _as_chat_admin(
    message: Message, bot: Bot, ctx: Context, change: Callable[[UnitOfWork], Awaitable[str]]
) -> None:
    """Both checks matter: a chat admin who is not a group admin could hijack announcements,
    and a group admin who is not a chat admin could spam someone else's chat (the service
    checks the group side)."""
    member = await bot.get_chat_member(message.chat.id, message.from_user.id)  # type: ignore[union-attr]
    if member.status not in CHAT_ADMINS:
        await send_card(bot, message.chat.id, note(ctx.t("Only this chat's admins can do that.")))
        return
    try:
        async with ctx.uow() as uow:
            text = await change(uow)
    except DomainError as error:
        await send_card(bot, message.chat.id, note("⚠️ " + error.render(ctx.t)))
        return
    await send_card(bot, message.chat.id, note(text))


def build() -> Router:
    router = Router(name="chats")
    router.message.register(bind_in_private, Command("bindgroup"), When(F.chat.type == "private"))
    router.message.register(bind_group, Command("bindgroup"))
    router.message.register(bind_in_private, Command("unbindgroup"), When(F.chat.type == "private"))
    router.message.register(unbind_group, Command("unbindgroup"))
    return router
