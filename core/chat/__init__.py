"""The chat surface of the core: commands and button actions, the same on every platform.

An adapter turns its platform's input into `handle_text` or `handle_action` calls with the
acting person, and renders the returned Reply. Importing this package registers every command.
"""

from core.chat import (  # noqa: F401 - registers them
    account,
    attendance,
    calendars,
    discovery,
    events,
    groups,
    moderation,
    posts,
    series,
)
from core.chat.registry import COMMANDS, Services, handle_action, handle_text

__all__ = ["COMMANDS", "Services", "handle_action", "handle_text"]
