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
from core.cards import Attachment, Card, Reply, repeats
from core.chat import Services, handle_action, handle_text
from core.chat.identity import context_for
from core.chat.registry import Context
from core.i18n import Translator
from core.models import Identity
from core.render.text import render_card
from core.services import people
from core.work import Worker

PLATFORM = "console"


@dataclass
class ConsoleNotifier:
    """Delivers notices to other console people by printing them, marked with their name. Their
    buttons are numbered `m1`, `m2`, … (never reused, so a number means one button of one
    message) and pressed by typing that number as the person they were sent to. The marks
    are in the console's own language (DEFAULT_LOCALE): one reader sees them all."""

    out: TextIO
    ansi: bool = False
    platform: str = PLATFORM
    pressable: dict[str, tuple[str, str]] = field(default_factory=dict)  # m3 -> (whom, action)

    async def send(self, identity: Identity, card: Card) -> None:
        t = Translator()
        body = render_card(card, ansi=self.ansi)
        self.out.write(t("📨 to {name}: {card}", name=identity.external_id, card=body) + "\n")
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
        t = Translator()
        body = render_card(card, ansi=self.ansi)
        self.out.write(t("📢 in {chat}: {card}", chat=chat_id, card=body) + "\n")


@dataclass
class ConsoleChat:
    services: Services
    inp: TextIO = field(default_factory=lambda: sys.stdin)
    out: TextIO = field(default_factory=lambda: sys.stdout)
    person: str = "me"
    choices: list[str] = field(default_factory=list)
    workers: list[Worker] = field(default_factory=list)  # stopped before "Bye!": see run

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

    def show(self, reply: Reply, t: Translator) -> None:
        """The toast (a click's short answer) unless a card says more, then the cards. A card
        that only repeats the toast is left out, as Telegram leaves it out; a reply without a
        card of its own (an error note) leaves the buttons on screen pressable."""
        cards = [card for card in reply.cards if not repeats(card, reply.toast)]
        if reply.toast and (reply.edit or not cards or len(cards) < len(reply.cards)):
            self.write(("⚠️ " if reply.alert else "💬 ") + reply.toast)
        if cards:
            self.choices = []
        for card in cards:
            self.write(render_card(card, ansi=self.ansi))
            if card.file is not None:
                path = self.save(card.file)
                self.write(t("📎 {file} saved in {path}", file=card.file.name, path=path))
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
            self.show(await handle_action(ctx, payload), ctx.t)
        elif line.isdigit():
            number = int(line)
            if not 1 <= number <= len(self.choices):
                self.write(ctx.t("There is no button {number} here.", number=number))
                return True
            self.show(await handle_action(ctx, self.choices[number - 1]), ctx.t)
        elif line.startswith("/"):
            self.show(await handle_text(ctx, line), ctx.t)
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
        t = (await self.context()).t
        if not (name and name.isprintable() and len(name) <= 32):
            self.write(t("Usage: /as <name>, e.g. /as bob"))
            return
        async with self.services.db.uow(readonly=True) as uow:
            handles = await people.handles_named(uow, PLATFORM, name)
        if len(handles) > 1:
            self.write(
                t(
                    "Several people are called {name}: {handles}. /as one of those.",
                    name=name,
                    handles=", ".join(handles),
                )
            )
            return
        self.person, self.choices = (handles[0] if handles else name), []
        t = (await self.context()).t  # the new person's language
        if handles:
            self.write(t("— you are now {name} —", name=self.person))
        else:
            self.write(t("— you are now {name} (someone new) —", name=self.person))

    async def run(self) -> None:
        """Read until end of input or /quit; a scripted session ends cleanly at EOF. "Bye!" is
        the last line: the workers finish what they are sending (an offer the last line made)
        and stop first."""
        interactive = self.inp.isatty()
        t = Translator()
        self.write(
            t(
                "Community console. /help for commands, /as <name> to be someone else, "
                "/quit to leave."
            )
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
        for worker in self.workers:
            await worker.stop()
        await self.services.settle()
        self.write(t("Bye!"))
