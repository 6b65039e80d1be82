"""The Notifier port for Discord: direct messages, and posts in a group's bound channel.

Whatever Discord refuses for good becomes DeliveryFailed (closed DMs are 403 50007, a deleted
channel 404, anything else discord.py gave up on after its own retries), so a notice that
cannot arrive never breaks the click or the reminder run that caused it.
"""

from __future__ import annotations

import discord

from adapters.discord.render import message_kwargs, render
from core.cards import Card
from core.models import Identity
from core.notify import DeliveryFailed


class DiscordNotifier:
    platform = "discord"

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def _send(self, channel: discord.abc.Messageable, card: Card) -> str | None:
        """The card's messages; the id of the only one when it is one (a live card's copy)."""
        sent = [await channel.send(**message_kwargs(message)) for message in render(card)]
        return str(sent[0].id) if len(sent) == 1 else None

    async def send(self, identity: Identity, card: Card) -> str | None:
        try:
            user_id = int(identity.external_id)
            user = self.client.get_user(user_id) or await self.client.fetch_user(user_id)
            return await self._send(user, card)
        except discord.Forbidden as error:  # 50007: the member closed their DMs
            raise DeliveryFailed(f"direct messages closed ({error.code})") from error
        except discord.NotFound as error:
            raise DeliveryFailed("unknown user") from error
        except discord.HTTPException as error:
            raise DeliveryFailed(f"Discord refused the message: {error}") from error
        except ValueError as error:
            raise DeliveryFailed(f"not a Discord user id: {identity.external_id!r}") from error

    async def post(self, chat_id: str, card: Card) -> str | None:
        try:
            channel_id = int(chat_id)
            channel = self.client.get_channel(channel_id) or await self.client.fetch_channel(
                channel_id
            )
            if not isinstance(channel, discord.abc.Messageable):
                raise DeliveryFailed(f"channel {chat_id} takes no messages")
            return await self._send(channel, card)
        except discord.HTTPException as error:  # Forbidden, NotFound and the rest
            raise DeliveryFailed(f"cannot post in channel {chat_id}: {error}") from error
        except ValueError as error:
            raise DeliveryFailed(f"not a Discord channel id: {chat_id!r}") from error

    async def edit(self, chat_id: str, message_id: str, card: Card) -> None:
        """Redraw a posted card (a channel message, or one of our direct messages: `chat_id`
        is then the person's user id). discord.py waits out the route's rate limit itself."""
        rendered = render(card)
        if len(rendered) != 1:
            raise DeliveryFailed("the card no longer fits in one message")
        edit = message_kwargs(rendered[0])
        edit.setdefault("view", None)  # a card without buttons drops the old ones
        edit.setdefault("content", None)
        edit.pop("allowed_mentions", None)
        try:
            channel = self.client.get_channel(int(chat_id))
            if channel is None:
                user = self.client.get_user(int(chat_id))
                channel = (user.dm_channel or await user.create_dm()) if user else None
            if channel is None:
                channel = await self.client.fetch_channel(int(chat_id))
            await channel.get_partial_message(int(message_id)).edit(**edit)  # type: ignore[union-attr]
        except (discord.Forbidden, discord.NotFound) as error:
            raise DeliveryFailed(f"cannot edit message {message_id}: {error}") from error
