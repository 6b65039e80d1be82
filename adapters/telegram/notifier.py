"""The Notifier port for Telegram: private messages to people, posts to group chats."""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError

from adapters.telegram.replies import send_card
from core.cards import Card
from core.models import Identity
from core.notify import DeliveryFailed


class TelegramNotifier:
    platform = "telegram"

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def _deliver(self, chat_id: str, card: Card) -> None:
        try:
            await send_card(self.bot, chat_id, card)
        except TelegramForbiddenError as error:  # never started the bot, or blocked it
            raise DeliveryFailed(error.message) from error
        except TelegramBadRequest as error:  # chat not found, deactivated user, ...
            raise DeliveryFailed(error.message) from error

    async def send(self, identity: Identity, card: Card) -> None:
        if not identity.can_message:
            raise DeliveryFailed("the person has not started the bot")
        await self._deliver(identity.external_id, card)

    async def post(self, chat_id: str, card: Card) -> None:
        await self._deliver(chat_id, card)
