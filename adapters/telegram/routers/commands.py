"""Every core command, as a Telegram /command: forwarded to core.chat and rendered."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import Message

from adapters.telegram.replies import send_card, send_reply
from core.cards import note
from core.chat import handle_text
from core.chat.registry import Context


async def on_command(message: Message, bot: Bot, ctx: Context) -> None:
    reply = await handle_text(ctx, message.text or "")
    await send_reply(bot, message.chat.id, reply)


async def on_other_text(message: Message, bot: Bot, ctx: Context) -> None:
    """Plain text in a private chat: point to the commands rather than staying silent."""
    await send_card(bot, message.chat.id, note(ctx.t("Commands start with /. Try /help.")))


def build() -> Router:
    router = Router(name="commands")
    router.message.register(on_command, F.text.startswith("/"))
    router.message.register(on_other_text, F.chat.type == "private")
    return router
