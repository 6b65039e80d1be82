"""Splitting command arguments the same way on every platform."""

from __future__ import annotations


def fields(args: str) -> list[str]:
    """'a | b |  c' -> ['a', 'b', 'c']; the separator of multi-field commands."""
    return [part.strip() for part in args.split("|")] if args.strip() else []


def target_and_rest(args: str) -> tuple[str, str]:
    """'hiking Hello' -> ('hiking', 'Hello'); 'Trail Runners | Hi' -> ('Trail Runners', 'Hi')."""
    if "|" in args:
        head, _, rest = args.partition("|")
        return head.strip(), rest.strip()
    head, _, rest = args.strip().partition(" ")
    return head, rest.strip()


def number(text: str) -> int | None:
    text = text.strip().lstrip("#")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 16 else None
