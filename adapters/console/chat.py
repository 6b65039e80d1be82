"""The console chat: read lines, run them as commands or button numbers, print the replies.

It has no rules of its own: everything goes through core.chat, exactly as on Telegram and
Discord, which is what makes it a faithful place to try the product.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from core.actions import encode
from core.cards import Attachment, Card, Reply
from core.chat import Services, handle_action, handle_text
from core.chat.identity import context_for
from core.chat.registry import Context
from core.models import Identity
from core.render.text import render_card
from core.services import people

PLATFORM = "console"


@dataclass
class ConsoleNotifier:
    """Delivers notices to other console people by printing them, marked with their name. Their
    buttons are numbered `m1`, `m2`, … (never reused, so a number means one button of one
    message) and pressed by typing that number as the person they were sent to."""

    out: TextIO
    ansi: bool = False
    platform: str = PLATFORM
    pressable: dict[str, tuple[str, str]] = field(default_factory=dict)  # m3 -> (whom, action)

    async def send(self, identity: Identity, card: Card) -> None:
        body = render_card(card, ansi=self.ansi)
        self.out.write(f"📨 to {identity.external_id}: {body}\n")
        labels = []
        for row in card.buttons:
            for button in row:
                if button.action is None:
                    labels.append(f"[{button.label}]")
                    continue
                key = f"m{len(self.pressable) + 1}"
                self.pressable[key] = (identity.external_id, encode(button.action))
                labels.append(f"[{key}] {button.label}")
        if labels:
            self.out.write(f"   {'  '.join(labels)}\n")

    async def post(self, chat_id: str, card: Card) -> None:
        self.out.write(f"📢 in {chat_id}: {render_card(card, ansi=self.ansi)}\n")


@dataclass
class ConsoleChat:
    services: Services
    inp: TextIO = field(default_factory=lambda: sys.stdin)
    out: TextIO = field(default_factory=lambda: sys.stdout)
    person: str = "me"
    choices: list[str] = field(default_factory=list)

    @property
    def ansi(self) -> bool:
        return self.out.isatty()

    def write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    async def context(self) -> Context:
        return await context_for(
            self.services,
            platform=PLATFORM,
            external_id=self.person.lower(),
            display_name=self.person.capitalize(),
            platform_locale=self.services.settings.default_locale,
        )

    def show(self, reply: Reply) -> None:
        if reply.toast and (reply.edit or not reply.cards):
            self.write(("⚠️ " if reply.alert else "💬 ") + reply.toast)
        self.choices = []
        for card in reply.cards:
            self.write(render_card(card, ansi=self.ansi))
            if card.file is not None:
                self.write(f"📎 {card.file.name} saved in {self.save(card.file)}")
            for row in card.buttons:
                labels = []
                for button in row:
                    if button.action is None:
                        continue
                    self.choices.append(encode(button.action))
                    labels.append(f"[{len(self.choices)}] {button.label}")
                if labels:
                    self.write("   " + "  ".join(labels))
            self.write("")

    async def handle(self, line: str) -> bool:
        """Run one line; False means the person asked to quit."""
        line = line.strip()
        if not line:
            return True
        if line in ("/quit", "/exit"):
            return False
        if line.startswith("/as"):
            await self.become(line[3:].strip())
            return True
        ctx = await self.context()
        notifier = self.services.notifiers.get(PLATFORM)
        if line in getattr(notifier, "pressable", {}):
            whom, payload = notifier.pressable[line]  # type: ignore[union-attr]
            if whom != self.person.lower():
                self.write(ctx.t("That button was sent to {name}: /as {name} first.", name=whom))
                return True
            self.show(await handle_action(ctx, payload))
        elif line.isdigit():
            number = int(line)
            if not 1 <= number <= len(self.choices):
                self.write(ctx.t("There is no button {number} here.", number=number))
                return True
            self.show(await handle_action(ctx, self.choices[number - 1]))
        elif line.startswith("/"):
            self.show(await handle_text(ctx, line))
        else:
            self.write(ctx.t("Commands start with /. Try /help, or type a button's number."))
        return True

    def save(self, file: Attachment) -> Path:
        """Files (calendar entries, rosters) land in a folder of the console's own."""
        folder = Path(tempfile.gettempdir()) / "community-console"
        folder.mkdir(exist_ok=True)
        path = folder / Path(file.name).name
        path.write_bytes(file.data)
        return path

    async def become(self, name: str) -> None:
        """`/as maya` is the person known as maya here (the demo's Maya too); a name nobody has
        is a new person; a name several people share lists them to pick by their handle."""
        if not (name and name.isprintable() and len(name) <= 32):
            self.write("Usage: /as <name>, e.g. /as bob")
            return
        async with self.services.db.uow(readonly=True) as uow:
            handles = await people.handles_named(uow, PLATFORM, name)
        if len(handles) > 1:
            self.write(
                f"Several people are called {name}: " + ", ".join(handles) + ". /as one of those."
            )
            return
        self.person, self.choices = (handles[0] if handles else name), []
        known = "" if handles else " (someone new)"
        self.write(f"— you are now {self.person}{known} —")

    async def run(self) -> None:
        """Read until end of input or /quit; a scripted session ends cleanly at EOF."""
        interactive = self.inp.isatty()
        self.write(
            "Community console. /help for commands, /as <name> to be someone else, /quit to leave."
        )
        loop = asyncio.get_running_loop()
        while True:
            if interactive:
                self.out.write(f"{self.person}> ")
                self.out.flush()
            line = await loop.run_in_executor(None, self.inp.readline)
            if not line:
                break
            if not interactive:
                self.write(f"{self.person}> {line.rstrip()}")
            if not await self.handle(line):
                break
            await self.services.settle()  # what it told others prints before the next prompt
        self.write("Bye!")
