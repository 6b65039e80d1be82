"""Cards as Telegram HTML messages with inline keyboards, within Telegram's limits.

Every span's text goes through html.escape, so user text can never open a tag or break the
parser ("can't parse entities"). Telegram counts a message's length after entity parsing, i.e.
the visible text; long cards are split between lines into several messages, and a single
overlong line is trimmed, so no message is ever refused for length.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from core.actions import encode
from core.cards import Button, Card, Span, Style

MAX_TEXT = 4096
MAX_LABEL = 64
MAX_TOAST = 200


def visible_length(text: str) -> int:
    """Length as Telegram measures it: UTF-16 code units (an emoji may count as two)."""
    return len(text.encode("utf-16-le")) // 2


def trim(text: str, limit: int) -> str:
    if visible_length(text) <= limit:
        return text
    while visible_length(text) > limit - 1:
        text = text[:-1]
    return text + "…"


def span_html(span: Span, text: str | None = None) -> str:
    body = escape(span.text if text is None else text, quote=False)
    match span.style:
        case Style.BOLD:
            return f"<b>{body}</b>"
        case Style.ITALIC:
            return f"<i>{body}</i>"
        case Style.CODE:
            return f"<code>{body}</code>"
        case Style.LINK if span.url:
            return f'<a href="{escape(span.url)}">{body}</a>'
        case Style.MENTION if span.url and span.url.isdigit():
            return f'<a href="tg://user?id={span.url}">{body}</a>'
        case _:
            return body


def _line(spans: list[Span], budget: int) -> tuple[str, int]:
    """One line as HTML and its visible length, trimmed to `budget` visible characters."""
    parts, used = [], 0
    for span in spans:
        room = budget - used
        if room <= 0:
            break
        text = span.text if visible_length(span.text) <= room else trim(span.text, room)
        parts.append(span_html(span, text))
        used += visible_length(text)
    return "".join(parts), used


@dataclass(frozen=True)
class Message:
    html: str
    markup: InlineKeyboardMarkup | None


def keyboard(rows: list[list[Button]]) -> InlineKeyboardMarkup | None:
    buttons = [
        [
            InlineKeyboardButton(text=trim(b.label, MAX_LABEL), url=b.url)
            if b.url
            else InlineKeyboardButton(text=trim(b.label, MAX_LABEL), callback_data=encode(b.action))  # type: ignore[arg-type]
            for b in row
            if b.url or b.action
        ]
        for row in rows
    ]
    buttons = [row for row in buttons if row]
    return InlineKeyboardMarkup(inline_keyboard=buttons) if buttons else None


def render(card: Card) -> list[Message]:
    """A card as one or more messages; the keyboard goes on the last one."""
    chunks: list[list[str]] = [[]]
    size = 0
    for spans in card.lines:
        html, length = _line(spans, MAX_TEXT)
        needed = length + (1 if chunks[-1] else 0)
        if size + needed > MAX_TEXT:
            chunks.append([])
            size, needed = 0, length
        chunks[-1].append(html)
        size += needed
    texts = ["\n".join(lines) for lines in chunks]
    texts = [text if text.strip() else "…" for text in texts]
    messages = [Message(text, None) for text in texts[:-1]]
    messages.append(Message(texts[-1], keyboard(card.buttons)))
    return messages
