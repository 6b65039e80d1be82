"""Sending a core Reply to a Telegram chat: new messages, live cards, venues, toasts."""

from __future__ import annotations

import asyncio
import logging
from html import escape

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import BufferedInputFile, CallbackQuery
from aiogram.types import Message as TgMessage

from adapters.telegram.render import MAX_TOAST, render, trim
from core import livecards
from core.cards import Card, Reply
from core.chat.registry import Context
from core.notify import Posted

log = logging.getLogger(__name__)
PLATFORM = "telegram"


async def send_card(bot: Bot, chat_id: int | str, card: Card) -> int | None:
    """Send a card; returns its message id when it went out as one message (so it can be
    edited later), else None."""
    sent = [
        await bot.send_message(chat_id, message.html, reply_markup=message.markup)
        for message in render(card)
    ]
    if card.file is not None:
        document = BufferedInputFile(card.file.data, filename=card.file.name)
        await bot.send_document(chat_id, document)
    if card.place is not None:
        place = card.place
        await bot.send_venue(
            chat_id,
            latitude=place.latitude,
            longitude=place.longitude,
            title=trim(place.title, 64),
            address=trim(place.address, 128),
        )
    return sent[0].message_id if len(sent) == 1 else None


async def send_reply(bot: Bot, chat_id: int | str, reply: Reply, ctx: Context) -> None:
    """Send the reply's cards after the handler, in the background: the person's next update
    (a click on a card) need not wait while this chat's rate limit paces these messages. The
    session's pacing keeps every chat's sends in the order they were asked for."""
    if reply.cards:
        ctx.services.later(_send_cards(bot, chat_id, reply, ctx))


async def _send_cards(bot: Bot, chat_id: int | str, reply: Reply, ctx: Context) -> None:
    """The cards as new messages; live activity cards are recorded as copies, so later
    changes to the activity redraw them (core.livecards)."""
    posted = []
    try:
        for card in reply.cards:
            message_id = await send_card(bot, chat_id, card)
            if card.live is not None and message_id is not None:
                posted.append(
                    Posted(PLATFORM, str(chat_id), str(message_id), card, ctx.t.locale, ctx.me)
                )
    finally:  # what went out is recorded together, even when a later card failed
        await asyncio.gather(*(livecards.remember(ctx.services, item) for item in posted))


async def edit_card(bot: Bot, chat_id: int | str, message_id: int, card: Card) -> bool:
    """Replace a message with a one-message card; False when the card needs a new message."""
    rendered = render(card)
    if len(rendered) != 1:
        return False
    try:
        await bot.edit_message_text(
            text=rendered[0].html,
            chat_id=chat_id,
            message_id=message_id,
            reply_markup=rendered[0].markup,
        )
    except TelegramBadRequest as error:
        if "message is not modified" not in error.message:
            raise
    return True


async def answer_click(
    bot: Bot, query: CallbackQuery, reply: Reply, ctx: Context, *, queued: bool = False
) -> None:
    """Answer the query at once (the spinner stops within Telegram's window), then leave the
    rest to the background: a live card is redrawn by the card refresher with its other
    copies (coalesced and paced), anything else is edited or sent after the answer, so a busy
    chat's rate limit never holds the click's handler. `queued`: the click waited so long that
    it was answered "queued" already (middlewares.ClickClock); its toast becomes a message."""
    toast = trim(reply.toast, MAX_TOAST) if reply.toast else None
    if queued:
        if toast:
            text = _queued_result(reply, toast)
            ctx.services.later(_toast_as_message(bot, query.from_user.id, text))
    else:
        try:
            await query.answer(toast, show_alert=reply.alert and bool(toast))
        except TelegramBadRequest as error:  # too old: the click still counts, the toast lost
            log.info("callback answer failed: %s", error.message)
    message = query.message if isinstance(query.message, TgMessage) else None
    if message is None or not reply.cards:
        return
    cards = list(reply.cards)
    chat_id = message.chat.id
    if reply.edit and cards[0].live is not None:
        clicked = Posted(
            PLATFORM, str(chat_id), str(message.message_id), cards.pop(0), ctx.t.locale, ctx.me
        )
        ctx.services.later(livecards.redraw_later(ctx.services, clicked))
        if not cards:
            return
    ctx.services.later(_rest(bot, chat_id, message.message_id, reply.edit, cards, ctx))


def _queued_result(reply: Reply, toast: str) -> str:
    """A queued tap's result as a message, headed by the first line of the card it was on (the
    activity's title): a tap's toast shows beside its card, a message may come after others."""
    heading = reply.cards[0].text.partition("\n")[0] if reply.cards else ""
    return f"<b>{escape(heading)}</b>\n{escape(toast)}" if heading else escape(toast)


async def _toast_as_message(bot: Bot, user_id: int, text: str) -> None:
    try:
        await bot.send_message(user_id, text)
    except TelegramAPIError as error:  # never started the bot, or blocked it: the card shows it
        log.info("a queued click's result could not be sent to %s: %s", user_id, error)


async def _rest(
    bot: Bot, chat_id: int, message_id: int, edit: bool, cards: list[Card], ctx: Context
) -> None:
    try:
        if edit and await edit_card(bot, chat_id, message_id, cards[0]):
            cards = cards[1:]
        await _send_cards(bot, chat_id, Reply(cards=cards), ctx)
    except Exception:  # the click was answered and committed; this is only its echo
        log.exception("sending the rest of a click's answer to chat %s failed", chat_id)
