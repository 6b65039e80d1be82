"""Every core command, as a Telegram /command: forwarded to core.chat and rendered."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import KeyboardButton, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove

from adapters.telegram.render import render
from adapters.telegram.replies import send_card, send_reply
from adapters.telegram.routers.filters import COMMAND, When
from core.cards import note
from core.chat import handle_text
from core.chat.registry import Context


async def on_command(message: Message, bot: Bot, ctx: Context) -> None:
    reply = await handle_text(ctx, message.text or "")
    await send_reply(bot, message.chat.id, reply, ctx)


async def on_other_text(message: Message, bot: Bot, ctx: Context) -> None:
    """Plain text in a private chat: point to the commands rather than staying silent."""
    await send_card(bot, message.chat.id, note(ctx.t("Commands start with /. Try /help.")))


async def ask_location(message: Message, ctx: Context) -> None:
    """/setlocation alone: Telegram can share the location with one tap."""
    keyboard = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=ctx.t("📍 Share location"), request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    text = ctx.t("Tap the button to share your location (or send /setlocation 52.52, 13.40).")
    await message.answer(render(note(text))[0].html, reply_markup=keyboard)


async def on_location(message: Message, bot: Bot, ctx: Context) -> None:
    """A shared location (or venue) becomes /setlocation, the same command on every platform."""
    where = message.location
    text = f"/setlocation {where.latitude:.6f}, {where.longitude:.6f}"  # type: ignore[union-attr]
    reply = await handle_text(ctx, text)
    await bot.send_message(message.chat.id, "👍", reply_markup=ReplyKeyboardRemove())
    await send_reply(bot, message.chat.id, reply, ctx)


def build() -> Router:
    router = Router(name="commands")
    private = When(F.chat.type == "private")
    router.message.register(ask_location, Command("setlocation", magic=F.args.is_(None)), private)
    router.message.register(on_location, When(F.location), private)
    router.message.register(on_command, When(COMMAND))
    router.message.register(on_other_text, private)
    return router
