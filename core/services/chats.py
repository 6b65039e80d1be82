"""Home chats: the platform chat where a group's new activities and posts are announced."""

from __future__ import annotations

from sqlmodel import select

from core import permissions
from core.errors import conflict
from core.i18n import N_
from core.models import Group, GroupChat
from core.services.groups import find_group, membership_of
from core.uow import UnitOfWork


async def bind_home_chat(
    uow: UnitOfWork, actor_id: int, ref: str, *, platform: str, chat_id: str, locale: str
) -> Group:
    """Make a chat one of the group's homes (a group may have several, on either platform;
    binding a chat again only updates its language).

    Only a group admin may do it: otherwise anyone could redirect a group's announcements.
    The adapter checks separately that the person also administers the chat itself.
    """
    group = await find_group(uow, ref)
    permissions.require_admin(group, await membership_of(uow, group.id, actor_id))  # type: ignore[arg-type]
    existing = await _home(uow, group.id, platform, chat_id)  # type: ignore[arg-type]
    home = existing or GroupChat(group_id=group.id, platform=platform, chat_id=chat_id)  # type: ignore[arg-type]
    home.chat_id, home.locale = chat_id, locale
    uow.session.add(home)
    await uow.commit()
    return group


async def unbind_home_chat(
    uow: UnitOfWork, actor_id: int, ref: str, *, platform: str, chat_id: str
) -> Group:
    """Stop announcing the group in this chat (a group admin, as for binding)."""
    group = await find_group(uow, ref)
    permissions.require_admin(group, await membership_of(uow, group.id, actor_id))  # type: ignore[arg-type]
    home = await _home(uow, group.id, platform, chat_id)  # type: ignore[arg-type]
    if home is None:
        raise conflict(
            "not_a_home_chat", N_("This chat is not a home of {group}."), group=group.name
        )
    await uow.session.delete(home)
    await uow.commit()
    return group


async def _home(uow: UnitOfWork, group_id: int, platform: str, chat_id: str) -> GroupChat | None:
    return (
        await uow.session.exec(
            select(GroupChat).where(
                GroupChat.group_id == group_id,
                GroupChat.platform == platform,
                GroupChat.chat_id == chat_id,
            )
        )
    ).first()


async def home_chats(uow: UnitOfWork, group_id: int) -> list[GroupChat]:
    rows = await uow.session.exec(select(GroupChat).where(GroupChat.group_id == group_id))
    return list(rows.all())
