"""Home chats: the platform chat where a group's new activities and posts are announced."""

from __future__ import annotations

import functools

import sqlalchemy as sa
from sqlmodel import select

from core import permissions, work
from core.errors import conflict
from core.i18n import N_
from core.models import Group, GroupChat
from core.services.groups import find_group, membership_of
from core.uow import UnitOfWork

ANNOUNCE = "announce"  # the job kind of posting a new activity or post to a home chat


@functools.cache
def _announce_in_homes(dialect: str) -> sa.Insert:
    """An "announce" job for each home chat of the group but the one skipped, in one
    statement, keyed "subject:id:home" (the home chat's row). Built once."""
    table = GroupChat.__table__  # type: ignore[attr-defined]
    key = (sa.bindparam("prefix", type_=sa.String) + sa.cast(table.c.id, sa.String)).label("key")
    skipped = sa.and_(
        table.c.platform == sa.bindparam("skip_platform"),
        table.c.chat_id == sa.bindparam("skip_chat"),
    )
    homes = select(key).where(table.c.group_id == sa.bindparam("group_id"), sa.not_(skipped))
    return work.upsert_each(dialect, ANNOUNCE, homes)


async def announce(
    uow: UnitOfWork,
    subject: str,
    subject_id: int,
    group_id: int,
    skip: tuple[str, str] | None = None,
) -> None:
    """Post the new activity or post (`subject` "event" or "post") in every home chat of its
    group, but `skip` (platform, chat id: the chat the answer itself went to), durably: the
    duty to post commits with it, and the notice worker posts it (core.announcements)."""
    platform, chat_id = skip or ("", "")
    params = {
        "prefix": f"{subject}:{subject_id}:",
        "group_id": group_id,
        "skip_platform": platform,
        "skip_chat": chat_id,
    }
    await work.schedule_each(uow, ANNOUNCE, _announce_in_homes, params)


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
    # one chat, one language: the homes other groups have in it speak the newest binding's too
    await uow.session.exec(
        sa.update(GroupChat)
        .where(GroupChat.platform == platform, GroupChat.chat_id == chat_id)  # type: ignore[arg-type]
        .values(locale=locale)
    )
    uow.chats_changed()
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
    uow.chats_changed()
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


async def chat_language(uow: UnitOfWork, platform: str, chat_id: str) -> str | None:
    """The language a chat was bound in as a group's home, if it is one (bind_home_chat keeps
    one language per chat)."""
    found = await uow.session.exec(
        select(GroupChat.locale)
        .where(
            GroupChat.platform == platform,
            GroupChat.chat_id == chat_id,
            GroupChat.locale.is_not(None),  # type: ignore[union-attr]
        )
        .limit(1)
    )
    return found.first()


async def home_chats(uow: UnitOfWork, group_id: int) -> list[GroupChat]:
    rows = await uow.session.exec(select(GroupChat).where(GroupChat.group_id == group_id))
    return list(rows.all())
