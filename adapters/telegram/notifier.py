"""The Notifier port for Telegram: private messages to people, posts to group chats, and
edits of posted cards (core.livecards)."""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError

from adapters.telegram.replies import edit_card, send_card
from core.cards import Card
from core.models import Identity
from core.notify import DeliveryFailed


class TelegramNotifier:
    platform = "telegram"

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def _deliver(self, chat_id: str, card: Card) -> str | None:
        try:
            message_id = await send_card(self.bot, chat_id, card)
        except TelegramForbiddenError as error:  # never started the bot, or blocked it
            raise DeliveryFailed(error.message) from error
        except TelegramBadRequest as error:  # chat not found, deactivated user, ...
            raise DeliveryFailed(error.message) from error
        return None if message_id is None else str(message_id)

    async def send(self, identity: Identity, card: Card) -> str | None:
        if not identity.can_message:
            raise DeliveryFailed("the person has not started the bot")
        return await self._deliver(identity.external_id, card)

    async def post(self, chat_id: str, card: Card) -> str | None:
        return await self._deliver(chat_id, card)

    async def edit(self, chat_id: str, message_id: str, card: Card) -> None:
        """Redraw a posted card. Telegram refuses edits of deleted messages, of messages in
        chats the bot left, and of old ones: those copies are gone for good."""
        try:
            if not await edit_card(self.bot, chat_id, int(message_id), card):
                raise DeliveryFailed("the card no longer fits in one message")
        except (TelegramForbiddenError, TelegramBadRequest) as error:
            raise DeliveryFailed(error.message) from error
