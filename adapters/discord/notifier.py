"""The Notifier port for Discord: direct messages, and posts in a group's bound channel."""

from __future__ import annotations

import discord

from adapters.discord.render import render, view
from core.cards import Card
from core.models import Identity
from core.notify import DeliveryFailed


class DiscordNotifier:
    platform = "discord"

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def _send(self, channel: discord.abc.Messageable, card: Card) -> None:
        for message in render(card):
            layout = view(message.buttons)
            kwargs = {"embeds": message.embeds}
            if layout is not None:
                kwargs["view"] = layout
            await channel.send(**kwargs)

    async def send(self, identity: Identity, card: Card) -> None:
        try:
            user = self.client.get_user(int(identity.external_id)) or await self.client.fetch_user(
                int(identity.external_id)
            )
            await self._send(user, card)
        except discord.Forbidden as error:  # 50007: the member closed their DMs
            raise DeliveryFailed(f"direct messages closed ({error.code})") from error
        except discord.NotFound as error:
            raise DeliveryFailed("unknown user") from error

    async def post(self, chat_id: str, card: Card) -> None:
        try:
            channel = self.client.get_channel(int(chat_id)) or await self.client.fetch_channel(
                int(chat_id)
            )
            await self._send(channel, card)  # type: ignore[arg-type]
        except (discord.Forbidden, discord.NotFound) as error:
            raise DeliveryFailed(f"cannot post in channel {chat_id}: {error}") from error
