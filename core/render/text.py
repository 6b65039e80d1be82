"""Cards as plain terminal text.

User text may contain terminal escape sequences; they are removed here, the plain-text
equivalent of escaping HTML, so a title can never recolour or clear someone's terminal.
"""

from __future__ import annotations

from core.cards import Card, Span, Style
from core.validation import UNSAFE

_BOLD, _ITALIC, _RESET = "\x1b[1m", "\x1b[3m", "\x1b[0m"


def safe(text: str) -> str:
    return UNSAFE.sub("", text)


def render_span(span: Span, *, ansi: bool) -> str:
    text = safe(span.text)
    if span.style == Style.LINK and span.url:
        text = f"{text} <{safe(span.url)}>"
    if span.style == Style.MENTION:
        text = f"@{text}"
    if not ansi:
        return text
    if span.style == Style.BOLD:
        return f"{_BOLD}{text}{_RESET}"
    if span.style == Style.ITALIC:
        return f"{_ITALIC}{text}{_RESET}"
    return text


def render_card(card: Card, *, ansi: bool = False) -> str:
    return "\n".join("".join(render_span(s, ansi=ansi) for s in line) for line in card.lines)
