"""Filters checked on the event loop.

aiogram awaits `Filter` objects but runs every other callable filter — magic filters (`F...`)
and bare FSM states among them — in a worker thread, one thread hop per filter per update: a
dozen per message here, about a tenth of the dispatch cost (measured with
bench/telegram_throughput.py). `When(F...)` and `StateFilter(state)` are checked in place.
"""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Filter
from aiogram.types import TelegramObject
from magic_filter import MagicFilter

# A command: the commands router runs it, and no wizard step takes it as an answer (a person who
# types /events halfway through /newevent wants their activities, not a title "/events").
COMMAND = F.text.startswith("/")
ANSWER = F.text & ~COMMAND


class When(Filter):
    """A magic filter, e.g. `When(F.chat.type == "private")`."""

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: TelegramObject) -> bool:
        return bool(self.magic.resolve(event))
