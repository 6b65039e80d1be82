"""Cards as Discord embeds and buttons, within Discord's limits.

User text is markdown-escaped span by span (a title like `**x**` shows as written, `<@1>` or
`<t:0>` stay text), times become Discord timestamps (`<t:…:F>` shown in each reader's own
timezone, plus `<t:…:R>`), and the client sends every message with AllowedMentions.none(), so
no text can ping anyone. The one deliberate ping is a MENTION span (a reminder that could not
reach someone privately): it goes in the message content, the only place Discord pings from,
with allowed_mentions naming just that person.

Limits: 4096 characters per embed description, 6000 per message, 10 embeds, 2000 for plain
content, 80 per button label, 5 buttons a row and 5 rows, unique custom_ids per message. A
long card is split between lines, and a line longer than a description (a 4000-character post
whose escapes double it) between words, never inside an escape; nothing is cut.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

import discord
from discord.utils import escape_markdown

from adapters.discord.buttons import ActionButton
from core.actions import encode
from core.cards import Attachment, Button, Card, Span, Style

MAX_DESCRIPTION = 4096
MAX_MESSAGE_EMBED_TEXT = 6000
MAX_EMBEDS = 10
MAX_LABEL = 80
MAX_CONTENT = 2000
MAX_ROWS = 5
MAX_ROW_WIDTH = 5
COLOR = discord.Colour.from_rgb(46, 139, 87)

# escape_markdown leaves these alone: `<@1>`, `<#2>`, `<t:0:F>`, `<:emoji:3>` would render as
# mentions, channels, timestamps and emoji, and "1. " at a line start as a list.
_ANGLE = re.compile(r"<(?=[@#:at]|/)")
_ORDERED = re.compile(r"^(\s*\d+)\.(?=\s)", re.MULTILINE)


def trim(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape(text: str) -> str:
    """User text as Discord markdown that displays exactly as typed."""
    return _ORDERED.sub(r"\1\\.", _ANGLE.sub(r"\\<", escape_markdown(text)))


def _wrap(marker: str, text: str) -> str:
    """`**text**` with surrounding whitespace kept outside (`** x**` would not render bold)."""
    core = text.strip()
    if not core:
        return text
    start = text.index(core[0])
    return f"{text[:start]}{marker}{core}{marker}{text[start + len(core) :]}"


def span_markdown(span: Span, text: str | None = None) -> str:
    raw = span.text if text is None else text
    body = escape(raw)
    match span.style:
        case Style.BOLD:
            return _wrap("**", body)
        case Style.ITALIC:
            return _wrap("*", body)
        case Style.CODE:
            return "`" + raw.replace("`", "ˋ") + "`" if raw else ""
        case Style.LINK if span.url:
            return f"[{body}]({span.url.replace(')', '%29')})"
        case Style.TIME if span.when is not None:
            stamp = int(span.when.timestamp())
            return f"<t:{stamp}:F> (<t:{stamp}:R>)"
        case Style.MENTION if span.url and span.url.isdigit():
            return f"<@{span.url}>"
        case _:
            return body


def _pieces(span: Span, limit: int) -> list[str]:
    """The span as markdown, in pieces of at most `limit` characters (split between words
    where possible, each piece escaped and styled on its own)."""
    whole = span_markdown(span)
    if len(whole) <= limit or span.style not in (Style.TEXT, Style.BOLD, Style.ITALIC):
        return [trim(whole, limit)] if whole else []
    pieces, rest = [], span.text
    while rest:
        size = min(len(rest), limit)
        while size > 1:
            length = len(span_markdown(span, rest[:size]))
            if length <= limit:
                break
            size = max(1, min(size - 1, size * limit // length))
        if size < len(rest):
            cut = max(rest.rfind(" ", 0, size), rest.rfind("\n", 0, size))
            size = cut + 1 if cut > size // 2 else size
        pieces.append(span_markdown(span, rest[:size]))
        rest = rest[size:]
    return pieces


def map_link(card: Card) -> list[Span]:
    """Telegram shows a card's place as a map pin; Discord has no such message, so a link."""
    place = card.place
    if place is None:
        return []
    url = (
        f"https://www.openstreetmap.org/?mlat={place.latitude:.5f}&mlon={place.longitude:.5f}"
        f"#map=16/{place.latitude:.5f}/{place.longitude:.5f}"
    )
    return [Span(Style.TEXT, "🗺️ "), Span(Style.LINK, "OpenStreetMap", url=url)]


@dataclass
class Message:
    embeds: list[discord.Embed]
    buttons: list[list[Button]] = field(default_factory=list)
    mentions: list[int] = field(default_factory=list)  # user ids to ping (content)
    file: Attachment | None = None


def _descriptions(lines: list[list[Span]]) -> list[str]:
    """Lines packed into descriptions; a line moves whole to the next description when it
    does not fit, and only a line longer than a description is split (between pieces)."""
    chunks: list[str] = [""]

    def put(text: str, glue: str) -> None:
        if chunks[-1] and len(chunks[-1]) + len(glue) + len(text) > MAX_DESCRIPTION:
            chunks.append("")
        chunks[-1] += (glue if chunks[-1] else "") + text

    for spans in lines:
        pieces = [piece for span in spans for piece in _pieces(span, MAX_DESCRIPTION)]
        line = "".join(pieces)
        if len(line) <= MAX_DESCRIPTION:
            put(line, "\n")
            continue
        for index, piece in enumerate(pieces):
            put(piece, "\n" if index == 0 else "")
    return [chunk.strip() or "…" for chunk in chunks]


def _rows(card: Card) -> list[list[Button]]:
    """The card's rows when they fit Discord's 5 x 5, else packed five to a row; at most 25
    buttons, each action once (custom_ids must be unique on a message)."""
    seen: set[str] = set()
    rows: list[list[Button]] = []
    for row in card.buttons:
        kept = []
        for button in row:
            key = button.url or (encode(button.action) if button.action else "")
            if key and key not in seen:
                seen.add(key)
                kept.append(button)
        if kept:
            rows.append(kept)
    if len(rows) <= MAX_ROWS and all(len(row) <= MAX_ROW_WIDTH for row in rows):
        return rows
    flat = [button for row in rows for button in row][: MAX_ROWS * MAX_ROW_WIDTH]
    return [flat[i : i + MAX_ROW_WIDTH] for i in range(0, len(flat), MAX_ROW_WIDTH)]


def render(card: Card) -> list[Message]:
    """A card as one or more messages of embeds; the buttons go on the last one."""
    lines = list(card.lines)
    if card.place is not None:
        lines.append(map_link(card))
    messages: list[Message] = [Message([])]
    total = 0
    for text in _descriptions(lines):
        current = messages[-1]
        if current.embeds and (
            total + len(text) > MAX_MESSAGE_EMBED_TEXT or len(current.embeds) == MAX_EMBEDS
        ):
            messages.append(Message([]))
            total = 0
        messages[-1].embeds.append(discord.Embed(description=text, colour=COLOR))
        total += len(text)
    messages[-1].buttons = _rows(card)
    mentions = [
        int(span.url)
        for line in card.lines
        for span in line
        if span.style == Style.MENTION and span.url and span.url.isdigit()
    ]
    messages[0].mentions = list(dict.fromkeys(mentions))
    messages[-1].file = card.file
    return messages


def message_kwargs(message: Message, *, ephemeral: bool | None = None) -> dict[str, Any]:
    """What discord.py's send, followup and edit take for one rendered message. A message
    that names someone pings exactly that person (allowed_mentions lists only them); all
    others keep the client default, AllowedMentions.none()."""
    kwargs: dict[str, Any] = {"embeds": message.embeds}
    if ephemeral is not None:
        kwargs["ephemeral"] = ephemeral
    layout = view(message.buttons)
    if layout is not None:
        kwargs["view"] = layout
    if message.file is not None:
        kwargs["file"] = discord.File(io.BytesIO(message.file.data), filename=message.file.name)
    if message.mentions:
        kwargs["content"] = " ".join(f"<@{user_id}>" for user_id in message.mentions)
        kwargs["allowed_mentions"] = discord.AllowedMentions(
            everyone=False,
            roles=False,
            replied_user=False,
            users=[discord.Object(id=user_id) for user_id in message.mentions],
        )
    return kwargs


class CardView(discord.ui.View):
    """A card's buttons. Every action button is an ActionButton (a DynamicItem), routed by its
    custom_id, not by this view, so the view has nothing to time out. discord.py gives
    ephemeral views a 15-minute timeout anyway, one sleeping task per card; pinning the
    timeout to None keeps that from happening (and lets the client close with no tasks
    left)."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @property
    def timeout(self) -> float | None:
        return None

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        pass


def view(rows: list[list[Button]]) -> discord.ui.View | None:
    """Buttons as a persistent view: action buttons are ActionButtons (DynamicItems), so a card
    posted before a restart still works after it."""
    if not rows:
        return None
    layout = CardView()
    for index, row in enumerate(rows):
        for button in row:
            label = trim(button.label, MAX_LABEL) or "…"
            if button.url:
                item: discord.ui.Item = discord.ui.Button(label=label, url=button.url, row=index)
            else:
                item = ActionButton(encode(button.action), label=label, row=index)  # type: ignore[arg-type]
            layout.add_item(item)
    return layout
