"""One Router per feature; `routers()` gives them in the order they must be included."""

from aiogram import Router

from adapters.telegram.routers import buttons, chats, commands, newevent


def routers() -> list[Router]:
    # The wizard first (it owns messages while a person is in it), then the group-chat
    # commands, the general command forwarder, and the buttons.
    return [newevent.router, chats.router, commands.router, buttons.router]
