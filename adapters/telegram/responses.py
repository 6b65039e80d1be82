"""Keep the models aiogram validates Bot API answers with alive for the bot's lifetime.

aiogram validates each answer as `Response[T]` (T: what the method returns), a pydantic generic
it asks for on every call. pydantic caches parametrized generics only weakly, and a model class
sits in reference cycles, so each garbage collection frees the ones not in use at that moment
and the next call builds them again — a few milliseconds each, about a seventh of the bot's CPU
under load (measured with bench/telegram_throughput.py). Holding one reference per method type
ends the rebuilding.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType


class KeepResponseModels(BaseRequestMiddleware):
    def __init__(self) -> None:
        self.models: dict[type, Any] = {}

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        kind = type(method)
        if kind not in self.models:
            self.models[kind] = Response[method.__returning__]  # type: ignore[name-defined]
        return await make_request(bot, method)
