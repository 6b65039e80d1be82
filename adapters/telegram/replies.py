"""Sending a core Reply to a Telegram chat: new messages, edits in place, venues, toasts."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery
from aiogram.types import Message as TgMessage

from adapters.telegram.render import MAX_TOAST, render, trim
from core.cards import Card, Reply

log = logging.getLogger(__name__)


async def send_card(bot: Bot, chat_id: int | str, card: Card) -> None:
    for message in render(card):
        await bot.send_message(chat_id, message.html, reply_markup=message.markup)
    if card.place is not None:
        place = card.place
        await bot.send_venue(
            chat_id,
            latitude=place.latitude,
            longitude=place.longitude,
            title=trim(place.title, 64),
            address=trim(place.address, 128),
        )


async def send_reply(bot: Bot, chat_id: int | str, reply: Reply) -> None:
    for card in reply.cards:
        await send_card(bot, chat_id, card)


async def edit_card(bot: Bot, message: TgMessage, card: Card) -> bool:
    """Replace a message with a one-message card; False when the card needs a new message."""
    rendered = render(card)
    if len(rendered) != 1:
        return False
    try:
        await bot.edit_message_text(
            text=rendered[0].html,
            chat_id=message.chat.id,
            message_id=message.message_id,
            reply_markup=rendered[0].markup,
        )
    except TelegramBadRequest as error:
        if "message is not modified" not in error.message:
            raise
    return True


async def answer_click(bot: Bot, query: CallbackQuery, reply: Reply) -> None:
    """Answer the query first (the spinner stops, and Telegram's deadline is met), then edit
    the card in place or send the new cards."""
    toast = trim(reply.toast, MAX_TOAST) if reply.toast else None
    try:
        await query.answer(toast, show_alert=reply.alert and bool(toast))
    except TelegramBadRequest as error:  # too old: the click still counts, the toast is lost
        log.info("callback answer failed: %s", error.message)
    cards = list(reply.cards)
    message = query.message if isinstance(query.message, TgMessage) else None
    if reply.edit and cards and message is not None and await edit_card(bot, message, cards[0]):
        cards = cards[1:]
    if message is None:
        return
    for card in cards:
        await send_card(bot, message.chat.id, card)
