"""Activities as Discord Scheduled Events: an activity of a group homed in a Discord server also
appears in the server's Events list (an external event: its place, start and end), kept in step
when it is edited and cancelled when it is, with a link back to its card.

Core asks for it with a durable "mirror" job in the transaction that created, edited or
cancelled the activity (core.services.events.mirror); this worker does it over REST, so it runs
in any process that has the Discord token (the "worker" role too), and a restart loses nothing.
Which Discord event belongs to which activity is kept in `native_event`. A server where the bot
may not manage events is skipped with a log line: the card and the announcements still work.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from sqlmodel import select

from core import work
from core.calendar import DURATION
from core.models import CardCopy, Event, EventStatus, GroupChat, Job, NativeEvent
from core.services.events import MIRROR

if TYPE_CHECKING:
    from core.chat.registry import Services

log = logging.getLogger(__name__)
PLATFORM = "discord"
MAX_NAME = 100
MAX_LOCATION = 100
MAX_DESCRIPTION = 1000


class ScheduledEvents(work.Worker):
    kind = MIRROR

    def __init__(self, services: Services, client: discord.Client, **options) -> None:
        super().__init__(services.db, services.clock, **options)
        self.client = client

    async def process(self, rows: list[Job]) -> int:
        for job in rows:
            try:
                await self.mirror(int(job.key))
            except discord.HTTPException as error:  # no permission, a server gone: skip it
                log.warning("activity %s: Discord event not synced: %s", job.key, error)
            async with self.db.uow() as uow:
                await work.finish(uow, job, self.worker, self.clock.now())
        return len(rows)

    async def mirror(self, event_id: int) -> None:
        async with self.db.uow(readonly=True) as uow:
            event = await uow.session.get(Event, event_id)
            homes = (
                await uow.session.exec(
                    select(GroupChat.chat_id).where(
                        GroupChat.group_id == event.group_id,  # type: ignore[union-attr]
                        GroupChat.platform == PLATFORM,
                    )
                )
            ).all()
            cards = (
                await uow.session.exec(
                    select(CardCopy.chat_id, CardCopy.message_id).where(
                        CardCopy.event_id == event_id,
                        CardCopy.platform == PLATFORM,
                        CardCopy.viewer_id.is_(None),  # type: ignore[union-attr]
                    )
                )
            ).all()
            known = {
                row.space_id: row
                for row in (
                    await uow.session.exec(
                        select(NativeEvent).where(
                            NativeEvent.event_id == event_id, NativeEvent.platform == PLATFORM
                        )
                    )
                ).all()
            }
        if event is None:
            return
        guilds: dict[int, str | None] = {}  # guild -> a link to the card in its home channel
        for chat_id in homes:
            channel = self.client.get_channel(int(chat_id)) or await self.client.fetch_channel(
                int(chat_id)
            )
            guild_id = channel.guild.id  # type: ignore[union-attr]
            message = next((m for c, m in cards if c == chat_id), None)
            link = (
                f"https://discord.com/channels/{guild_id}/{chat_id}/{message}" if message else None
            )
            if guilds.get(guild_id) is None:
                guilds[guild_id] = link
        for guild_id, link in guilds.items():
            mapped = known.get(str(guild_id))
            guild = self.client.get_guild(guild_id) or await self.client.fetch_guild(guild_id)
            if mapped is not None:
                native = await guild.fetch_scheduled_event(int(mapped.native_id))
                await self._update(native, event, link)
            elif event.status != EventStatus.CANCELLED and event.starts_at > self.clock.now():
                native = await guild.create_scheduled_event(**self._fields(event, link))
                async with self.db.uow() as uow:
                    uow.session.add(
                        NativeEvent(
                            event_id=event_id,
                            platform=PLATFORM,
                            space_id=str(guild_id),
                            native_id=str(native.id),
                        )
                    )
                    await uow.commit()

    async def _update(self, native: discord.ScheduledEvent, event: Event, link: str | None) -> None:
        if native.status not in (
            discord.EventStatus.scheduled,
            discord.EventStatus.active,
        ):
            return  # over or already cancelled: Discord allows no more changes
        if event.status == EventStatus.CANCELLED:
            await native.cancel()
            return
        await native.edit(**self._fields(event, link))

    @staticmethod
    def _fields(event: Event, link: str | None) -> dict:
        about = [event.description or "", f"Sign up: /event {event.id}"]
        if link:
            about.append(link)
        return {
            "name": event.title[:MAX_NAME],
            "start_time": event.starts_at,
            "end_time": event.starts_at + DURATION,
            "entity_type": discord.EntityType.external,
            "privacy_level": discord.PrivacyLevel.guild_only,
            "location": event.place[:MAX_LOCATION],
            "description": "\n".join(part for part in about if part)[:MAX_DESCRIPTION],
        }
