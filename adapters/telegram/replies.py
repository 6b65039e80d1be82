"""Sending a core Reply to a Telegram chat: new messages, live cards, venues, toasts."""

from __future__ import annotations

import asyncio
import logging
from html import escape

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError
from aiogram.types import BufferedInputFile, CallbackQuery
from aiogram.types import Message as TgMessage

from adapters.telegram.render import MAX_TOAST, render, trim, visible_length
from core import livecards
from core.cards import Card, Reply, repeats
from core.chat.registry import Context
from core.notify import Posted
from core.services import people

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
    changes to the activity redraw them (core.livecards); a shared one (a group chat's) is
    in the community's language."""
    posted = []
    try:
        for card in reply.cards:  # a shared card in the community's language, whoever asked
            card, locale = await livecards.for_everyone(
                ctx.services, card, ctx.t.locale, (PLATFORM, str(chat_id))
            )
            message_id = await send_card(bot, chat_id, card)
            if card.live is not None and message_id is not None:
                posted.append(Posted(PLATFORM, str(chat_id), str(message_id), card, locale, ctx.me))
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
    it was answered "queued" already (middlewares.ClickClock); its toast becomes a message.

    A tap's words arrive once: a card that only repeats the toast is not sent as well, unless
    the toast is too long to hold them. A tap in a group chat answers the tapper alone: the
    clicked card's redraw stays there, every other card goes to their private chat, or, when
    the bot may not write to them, the toast says how to get it."""
    message = query.message if isinstance(query.message, TgMessage) else None
    cards = list(reply.cards)
    redraw = cards.pop(0) if reply.edit and cards and message is not None else None
    cards = [card for card in cards if not _repeats(card, reply.toast)]
    toast, alert = reply.toast, reply.alert and bool(reply.toast)
    rest_to = message.chat.id if message is not None else query.from_user.id
    if message is not None and message.chat.type != "private" and cards:
        rest_to = query.from_user.id
        if not await _may_write(ctx, query.from_user.id):
            me = await bot.me()
            hint = ctx.t(
                "I can only send you this in a private chat: open @{bot}, tap Start, "
                "then tap here again.",
                bot=me.username or me.first_name,
            )
            toast, alert, cards = _toast_with(toast, hint), True, []
        elif not queued:  # a queued tap's result is a message in that private chat already
            toast = _toast_with(toast, ctx.t("📩 Sent to your private chat with me."))
    toast = trim(toast, MAX_TOAST) if toast else None
    if queued:
        if toast:
            text = _queued_result(redraw, toast)
            ctx.services.later(_toast_as_message(bot, query.from_user.id, text))
    else:
        try:
            await query.answer(toast, show_alert=alert)
        except TelegramBadRequest as error:  # too old: the click still counts, the toast lost
            log.info("callback answer failed: %s", error.message)
    if message is None:
        return
    chat_id = message.chat.id
    if redraw is not None and redraw.live is not None:
        ctx.services.later(_redraw_clicked(ctx, chat_id, message.message_id, redraw))
        redraw = None
    if redraw is not None or cards:
        ctx.services.later(_rest(bot, chat_id, message.message_id, redraw, rest_to, cards, ctx))


def _repeats(card: Card, toast: str | None) -> bool:
    """Whether the card only says what the toast says (core.cards.repeats), and the toast
    holds it whole."""
    return toast is not None and visible_length(toast) <= MAX_TOAST and repeats(card, toast)


def _toast_with(toast: str | None, more: str) -> str:
    """The toast, then `more` on a line of its own; the toast is what gets cut to fit."""
    if not toast:
        return more
    room = MAX_TOAST - visible_length(more) - 2
    return f"{trim(toast, room)}\n\n{more}" if room > 1 else trim(more, MAX_TOAST)


async def _may_write(ctx: Context, user_id: int) -> bool:
    """Whether the person started the bot (Telegram forbids bots to write first)."""
    async with ctx.uow(readonly=True) as uow:
        identity = await people.find_identity(uow, PLATFORM, str(user_id))
    return identity is not None and identity.can_message


def _queued_result(card: Card | None, toast: str) -> str:
    """A queued tap's result as a message, headed by the first line of the card it was on (the
    activity's title): a tap's toast shows beside its card, a message may come after others."""
    heading = card.text.partition("\n")[0] if card is not None else ""
    return f"<b>{escape(heading)}</b>\n{escape(toast)}" if heading else escape(toast)


async def _toast_as_message(bot: Bot, user_id: int, text: str) -> None:
    try:
        await bot.send_message(user_id, text)
    except TelegramAPIError as error:  # never started the bot, or blocked it: the card shows it
        log.info("a queued click's result could not be sent to %s: %s", user_id, error)


async def _redraw_clicked(ctx: Context, chat_id: int, message_id: int, card: Card) -> None:
    """The clicked copy goes to the card refresher, in the language it shows in its chat (a
    group chat's shared card: the chat's, whoever tapped it)."""
    chat = (PLATFORM, str(chat_id))
    locale = await livecards.shown_in(ctx.services, card, ctx.t.locale, chat)
    clicked = Posted(PLATFORM, str(chat_id), str(message_id), card, locale, ctx.me)
    await livecards.redraw_later(ctx.services, clicked)


async def _rest(
    bot: Bot,
    chat_id: int,
    message_id: int,
    redraw: Card | None,
    rest_to: int,
    cards: list[Card],
    ctx: Context,
) -> None:
    """The clicked message edited to `redraw` (sent after it when it no longer fits in one
    message), then the other cards to `rest_to`: the chat, or the tapper's private chat."""
    try:
        if redraw is not None and not await edit_card(bot, chat_id, message_id, redraw):
            await _send_cards(bot, chat_id, Reply(cards=[redraw]), ctx)
        if rest_to != chat_id:  # a group chat's tap, answered in the tapper's own chat
            cards = [
                await livecards.for_reader(ctx.services, c, ctx.me, ctx.t.locale) for c in cards
            ]
        await _send_cards(bot, rest_to, Reply(cards=cards), ctx)
    except TelegramForbiddenError as error:  # they blocked the bot since they started it
        log.info("a click's answer could not be sent to chat %s: %s", rest_to, error.message)
        if rest_to != chat_id:  # their private chat: next time the tap says to start the bot
            async with ctx.uow() as uow:
                await people.unreachable(uow, PLATFORM, str(rest_to))
    except Exception:  # the click was answered and committed; this is only its echo
        log.exception("sending the rest of a click's answer to chat %s failed", chat_id)
