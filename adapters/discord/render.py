"""Cards as Discord embeds and buttons, within Discord's limits.

User text is markdown-escaped span by span (a title like `**x**` shows as written), times
become Discord timestamps (`<t:…:F>` shown in each reader's own timezone, plus `<t:…:R>`),
and the client sends every message with AllowedMentions.none(), so no text can ping anyone.
Limits: 4096 characters per embed description, 6000 per message, 10 embeds, 2000 for plain
content, 80 per button label, 5 buttons a row and 5 rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import discord
from discord.utils import escape_markdown

from core.actions import encode
from core.cards import Button, Card, Span, Style

MAX_DESCRIPTION = 4096
MAX_MESSAGE_EMBED_TEXT = 6000
MAX_EMBEDS = 10
MAX_LABEL = 80
MAX_CONTENT = 2000
COLOR = discord.Colour.from_rgb(46, 139, 87)


def trim(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def span_markdown(span: Span) -> str:
    text = escape_markdown(span.text)
    match span.style:
        case Style.BOLD:
            return f"**{text}**" if text.strip() else text
        case Style.ITALIC:
            return f"*{text}*" if text.strip() else text
        case Style.CODE:
            return "`" + span.text.replace("`", "ˋ") + "`"
        case Style.LINK if span.url:
            return f"[{text}]({span.url.replace(')', '%29')})"
        case Style.TIME if span.when is not None:
            stamp = int(span.when.timestamp())
            return f"<t:{stamp}:F> (<t:{stamp}:R>)"
        case Style.MENTION if span.url and span.url.isdigit():
            return f"<@{span.url}>"
        case _:
            return text


def _line(spans: list[Span]) -> str:
    return trim("".join(span_markdown(s) for s in spans), MAX_DESCRIPTION)


@dataclass
class Message:
    embeds: list[discord.Embed]
    buttons: list[Button]


def render(card: Card) -> list[Message]:
    """A card as one or more messages of embeds; the buttons go on the last one."""
    descriptions: list[list[str]] = [[]]
    size = 0
    for spans in card.lines:
        line = _line(spans)
        if size + len(line) + 1 > MAX_DESCRIPTION:
            descriptions.append([])
            size = 0
        descriptions[-1].append(line)
        size += len(line) + 1
    messages: list[Message] = [Message([], [])]
    total = 0
    for lines in descriptions:
        text = "\n".join(lines).strip() or "…"
        if total + len(text) > MAX_MESSAGE_EMBED_TEXT or len(messages[-1].embeds) == MAX_EMBEDS:
            messages.append(Message([], []))
            total = 0
        messages[-1].embeds.append(discord.Embed(description=text, colour=COLOR))
        total += len(text)
    messages[-1].buttons = [b for row in card.buttons for b in row][:25]
    return messages


def view(buttons: list[Button]) -> discord.ui.View | None:
    """Buttons as a persistent view: action buttons are ActionButtons (DynamicItems), so a card
    posted before a restart still works after it."""
    from adapters.discord.buttons import ActionButton

    if not buttons:
        return None
    layout = discord.ui.View(timeout=None)
    for index, button in enumerate(buttons):
        label = trim(button.label, MAX_LABEL)
        if button.url:
            item: discord.ui.Item = discord.ui.Button(label=label, url=button.url, row=index // 5)
        else:
            item = ActionButton(encode(button.action), label=label, row=index // 5)  # type: ignore[arg-type]
        layout.add_item(item)
    return layout
