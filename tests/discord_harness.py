"""The real discord.py CommunityBot against the local Discord emulator, over HTTP and WebSocket.

`DiscordHarness.running(services)` starts the emulator with one server (GUILD, channel
CHANNEL), redirects discord.py to it, and starts the bot the way bots/cli.py does
(`CommunityBot(...)`, `login`, then `run_discord`), with `guild_ids=[GUILD]` so the commands
sync to the server. It returns when the client is ready (READY and GUILD_CREATE handled).

`slash`, `click`, `submit_modal` and `autocomplete` act as a person and return once the bot
has fully handled the interaction: the harness records which tasks discord.py started for
each INTERACTION_CREATE (the command tree, the DynamicItem dispatch, the modal, the
on_interaction listener) and waits for all of them, so tests never sleep or guess.

`restart()` closes the client and starts a new CommunityBot over the same services and
emulator (messages posted before stay, with their buttons). Leaving `running` closes
everything and checks that no task is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from adapters.discord.bot import CommunityBot, run_discord
from core.chat import Services
from tests.emulators.discord import (
    DiscordEmulator,
    EmuInteraction,
    EmuResponse,
    EmuUser,
    walk_components,
)
from tests.support import ProcessWorkers

TOKEN = "discord-harness-token"
GUILD = 1_000
CHANNEL = 2_000
MANAGERS_ROLE = 3_000
PERM_MANAGE_GUILD = 1 << 5
TIMEOUT = 10.0

_ESCAPED_OR_MARKUP = re.compile(r"\\([^A-Za-z0-9\s])|\*\*|\*|__|~~|\|\|")


def shown(markdown: str) -> str:
    """Roughly what a Discord client displays for bot markdown: escapes resolved, bold and
    italic markers dropped. `shown(r"**\\*\\*x\\*\\***") == "**x**"`."""
    return _ESCAPED_OR_MARKUP.sub(lambda m: m.group(1) or "", markdown)


def markdown_of(message: dict[str, Any]) -> str:
    """The message's content and embed text as sent (Discord markdown)."""
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        for item in embed.get("fields") or []:
            parts += [item.get("name") or "", item.get("value") or ""]
    return "\n".join(part for part in parts if part)


def text_of(message: dict[str, Any]) -> str:
    """The message as a reader sees it."""
    return shown(markdown_of(message))


def errors_logged(records: list[logging.LogRecord]) -> list[str]:
    """ERROR records from the loop, discord.py, aiohttp, the adapter or core: a handler that
    raised, a task destroyed while pending, a client session never closed."""
    return [
        record.getMessage()
        for record in records
        if record.levelno >= logging.ERROR
        and record.name.split(".")[0] in ("asyncio", "discord", "aiohttp", "adapters", "core")
    ]


class Answer(list[EmuResponse]):
    """Everything the bot sent in answer to one interaction (callback, followups, edits)."""

    def __init__(self, emu: DiscordEmulator, interaction: EmuInteraction) -> None:
        super().__init__(interaction.responses)
        self.emu = emu
        self.interaction = interaction

    @property
    def callback(self) -> EmuResponse:
        """The interaction's first response (type 4 message, 7 edit, 9 modal, …)."""
        found = next((r for r in self if r.kind == "callback"), None)
        assert found is not None, f"the bot never answered {self.interaction.name!r}"
        return found

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The messages the answer created or changed, as they are now, in order."""
        ids = dict.fromkeys(r.message_id for r in self if r.message_id is not None)
        found = []
        for message_id in ids:
            with contextlib.suppress(KeyError):
                found.append(self.emu.message(message_id))  # type: ignore[arg-type]
        return found

    @property
    def message(self) -> dict[str, Any]:
        """The first message of the answer (a card to click on)."""
        return self.messages[0]

    @property
    def text(self) -> str:
        """All of it as a reader sees it."""
        return "\n".join(shown(markdown_of(r.data)) for r in self)

    @property
    def ephemeral(self) -> bool:
        """Every message the answer created is ephemeral (edits keep their message's state)."""
        created = [r for r in self if r.kind == "followup" or r.type in (4, 5)]
        return bool(created) and all(r.ephemeral for r in created)


class DiscordHarness:
    def __init__(self, emu: DiscordEmulator, services: Services) -> None:
        self.emu = emu
        self.services = services
        self.bot: CommunityBot | None = None
        self._task: asyncio.Task | None = None
        self._handled: dict[int, asyncio.Event] = {}
        self._tasks: dict[int, set[asyncio.Task]] = {}
        self.workers = ProcessWorkers(services)
        self.refresher = self.workers.refresher

    # ---- lifecycle -----------------------------------------------------------------------

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, services: Services) -> AsyncIterator[DiscordHarness]:
        async with DiscordEmulator(valid_tokens={TOKEN}) as emu:
            emu.add_guild(GUILD, "Community", channels=[(CHANNEL, "general")])
            emu.add_role(GUILD, MANAGERS_ROLE, "Managers", PERM_MANAGE_GUILD)
            harness = cls(emu, services)
            with emu.redirect_discord():
                await harness.start()
                try:
                    yield harness
                finally:
                    await harness.stop()
        await asyncio.sleep(0)
        leftover = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        assert not leftover, f"tasks left running: {leftover}"

    async def start(self) -> None:
        """As bots/cli.py: build, log in (setup_hook syncs the commands and registers the
        Notifier), then connect; returns when the client is ready."""
        # on_ready waits guild_ready_timeout (2 s by default) after the last GUILD_CREATE.
        bot = CommunityBot(self.services, guild_ids=[GUILD], guild_ready_timeout=0.05)
        self.bot = bot
        await bot.login(TOKEN)
        self._track(bot)
        await self.workers.start()
        self._task = asyncio.create_task(run_discord(bot), name="discord-harness-bot")
        ready = asyncio.create_task(bot.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, self._task}, timeout=TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            await self.stop()
            raise RuntimeError("the Discord client did not get ready")

    async def stop(self) -> None:
        bot, task = self.bot, self._task
        self.bot, self._task = None, None
        await self.services.settle()
        await self.workers.stop()
        if bot is not None:
            await bot.close()
        if task is not None:
            await asyncio.wait_for(task, TIMEOUT)

    async def restart(self) -> None:
        """Close the client and start a new CommunityBot over the same services and emulator."""
        await self.stop()
        await self.start()

    def _track(self, bot: CommunityBot) -> None:
        """Note the tasks discord.py starts while parsing each INTERACTION_CREATE."""
        parsers = bot._connection.parsers
        parse = parsers["INTERACTION_CREATE"]

        def tracked(data: dict[str, Any]) -> None:
            before = asyncio.all_tasks()
            try:
                parse(data)
            finally:
                interaction_id = int(data["id"])
                self._tasks[interaction_id] = asyncio.all_tasks() - before
                self._event(interaction_id).set()

        parsers["INTERACTION_CREATE"] = tracked

    def _event(self, interaction_id: int) -> asyncio.Event:
        return self._handled.setdefault(interaction_id, asyncio.Event())

    async def handled(self, interaction: EmuInteraction) -> Answer:
        """Wait until the bot has finished with the interaction; everything it answered."""
        if not interaction.delivered:
            raise RuntimeError("no gateway session received the interaction")
        async with asyncio.timeout(TIMEOUT):
            await self._event(interaction.id).wait()
            tasks = self._tasks.pop(interaction.id)
            if tasks:
                await asyncio.wait(tasks)
            await self.settled()
        return Answer(self.emu, interaction)

    async def settled(self) -> None:
        """Wait until follow-ups went out (durable notices among them) and every stale card
        copy was redrawn."""
        await self.services.settle()
        await self.workers.notices.tick()
        await self.refresher.tick()

    # ---- the world -----------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        name: str,
        *,
        locale: str = "en-US",
        dms_open: bool = True,
        manager: bool = False,
    ) -> EmuUser:
        """A person on the server; `manager` gives them Manage Server."""
        user = self.emu.add_user(
            user_id, name.lower(), global_name=name, locale=locale, dms_open=dms_open
        )
        self.emu.add_member(GUILD, user_id, [MANAGERS_ROLE] if manager else [])
        return user

    def dms(self, user: EmuUser | int) -> list[dict[str, Any]]:
        """The bot's direct messages to the person, oldest first."""
        channel = self.emu.dm_channel_of(user if isinstance(user, int) else user.id)
        return self.emu.messages(channel) if channel is not None else []

    def current(self, message: dict[str, Any]) -> dict[str, Any]:
        """The message as it is now, after any edits."""
        return self.emu.message(int(message["id"]))

    # ---- acting as a person --------------------------------------------------------------

    async def slash(
        self,
        user: EmuUser | int,
        command: str,
        /,
        *,
        locale: str | None = None,
        dm: bool = False,
        channel: int = CHANNEL,
        **options: Any,
    ) -> Answer:
        """`/command option=value …` in the server channel (or the person's DM with `dm`)."""
        guild = None if dm else GUILD
        interaction = await self.emu.slash(
            user, guild, None if dm else channel, command, options, locale=locale
        )
        return await self.handled(interaction)

    async def autocomplete(
        self, user: EmuUser | int, command: str, /, *, locale: str | None = None, **options: Any
    ) -> list[dict[str, Any]]:
        """The person types the last option of `/command`; the choices the bot offered."""
        interaction = await self.emu.autocomplete(
            user, GUILD, CHANNEL, command, options, locale=locale
        )
        return (await self.handled(interaction)).callback.choices

    async def click(self, user: EmuUser | int, message: Any, label: str) -> Answer:
        """Press the button whose label contains `label` on the message (a stored message,
        a response or an Answer: its first message), in its current state."""
        current = self.current(self._message(message))
        custom_id = self.emu.find_button(current, label)
        return await self.handled(await self.emu.click(user, current, custom_id))

    async def forge(self, user: EmuUser | int, message: Any, custom_id: str) -> Answer:
        """A modified client's click: any custom_id, on the message."""
        current = self.current(self._message(message))
        return await self.handled(await self.emu.forge_component(user, current, custom_id))

    async def submit_modal(
        self,
        user: EmuUser | int,
        values: Mapping[str, str] | Sequence[str],
        custom_id: str | None = None,
    ) -> Answer:
        """Fill in and submit the latest modal shown to the person: `values` by field label
        (or custom_id), or in field order (handy when the labels are translated)."""
        if not isinstance(values, Mapping):
            values = dict(zip(self.modal_fields(user), values, strict=False))
        return await self.handled(await self.emu.submit_modal(user, custom_id, values))

    def modal_fields(self, user: EmuUser | int) -> list[str]:
        """The custom_ids of the text inputs of the latest modal shown to the person."""
        user_id = user if isinstance(user, int) else user.id
        modal = next(
            r
            for r in reversed(self.emu.responses)
            if r.type == 9 and r.interaction.user_id == user_id
        )
        return [
            component["custom_id"]
            for component in walk_components(modal.data.get("components"))
            if component.get("type") == 4
        ]

    def _message(self, message: Any) -> dict[str, Any]:
        if isinstance(message, Answer):
            return message.message
        if isinstance(message, EmuResponse):
            assert message.message_id is not None, "that response made no message"
            return self.emu.message(message.message_id)
        return message


__all__ = [
    "CHANNEL",
    "GUILD",
    "Answer",
    "DiscordHarness",
    "errors_logged",
    "markdown_of",
    "shown",
    "text_of",
]
