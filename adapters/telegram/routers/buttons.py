"""Inline buttons: the callback data is a core action, decoded and re-authorised in core."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.types import CallbackQuery
from aiogram.utils.deep_linking import create_start_link

from adapters.telegram.middlewares import ClickClock
from adapters.telegram.replies import answer_click, send_card
from core.actions import Act, BadAction, decode
from core.cards import Button, note
from core.chat import handle_action
from core.chat.registry import Context
from core.services import people


async def on_click(
    query: CallbackQuery, bot: Bot, ctx: Context, click: ClickClock | None = None
) -> None:
    reply = await handle_action(ctx, query.data or "")
    await answer_click(bot, query, reply, ctx, queued=click is not None and not click.claim())
    if ctx.in_group_chat and query.message is not None and not reply.alert:
        ctx.services.later(_offer_start(bot, query, ctx))


async def _offer_start(bot: Bot, query: CallbackQuery, ctx: Context) -> None:
    """Someone signed up from a group chat but never opened the bot: reminders can't reach
    them (Telegram forbids bots to write first), so offer a deep link to start it; once a day
    at most, however often they tap."""
    try:
        action = decode(query.data or "")
    except BadAction:
        return
    if action.act != Act.SIGN_UP:
        return
    account = str(query.from_user.id)
    async with ctx.uow(readonly=True) as uow:  # most tappers may be written to: no write
        identity = await people.find_identity(uow, "telegram", account)
    if identity is None or identity.can_message:
        return
    async with ctx.uow() as uow:
        if not await people.claim_start_offer(uow, ctx.clock, "telegram", account):
            return  # offered lately
    link = await create_start_link(bot, f"event_{action.id}")
    text = ctx.t(
        "{name}, start a private chat with me so I can send you reminders.",
        name=query.from_user.first_name,
    )
    card = note(text).row(Button(ctx.t("🔔 Start me for reminders"), url=link))
    await send_card(bot, query.message.chat.id, card)  # type: ignore[union-attr]


def build() -> Router:
    router = Router(name="buttons")
    router.callback_query.register(on_click)
    return router
