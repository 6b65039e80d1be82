"""One Router per feature; `routers()` gives them in the order they must be included."""

from aiogram import Router

from adapters.telegram.routers import buttons, chats, commands, newevent


def routers() -> list[Router]:
    """Fresh routers (a Router belongs to one Dispatcher). The wizard comes first: it owns a
    person's messages while they are in it; then group-chat commands, every core command,
    and the buttons."""
    return [newevent.build(), chats.build(), commands.build(), buttons.build()]
