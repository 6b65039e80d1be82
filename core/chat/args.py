"""Splitting command arguments the same way on every platform."""

from __future__ import annotations

from core.validation import BARS, partition_bar


def fields(args: str) -> list[str]:
    """'a | b |  c' -> ['a', 'b', 'c']; the separator of multi-field commands ("｜" too)."""
    return [part.strip() for part in BARS.split(args)] if args.strip() else []


def target_and_rest(args: str) -> tuple[str, str]:
    """'hiking Hello' -> ('hiking', 'Hello'); 'Trail Runners | Hi' -> ('Trail Runners', 'Hi')."""
    head, bar, rest = partition_bar(args)
    if bar:
        return head.strip(), rest.strip()
    head, _, rest = args.strip().partition(" ")
    return head, rest.strip()


def number(text: str) -> int | None:
    text = text.strip().lstrip("#")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 16 else None
