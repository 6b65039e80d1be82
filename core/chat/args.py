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


MAX_DIGITS = 100  # longer is not a number anyone typed (and Python reads ints to 4300 digits)


def number(text: str) -> int | None:
    """A whole number typed in plain digits ('3', '#3'), or None when there is none. A number
    too big to be an id is still a number: the service then says there is no such activity
    (validation.is_id), rather than the command asking for a number that was given."""
    text = text.strip().lstrip("#")
    return int(text) if text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS else None
