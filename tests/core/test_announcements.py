"""A new activity or post is announced in its group's home chats by a durable job written with
it (core/announcements.py): a process that dies right after the commit leaves the announcement
to whichever process runs next, which posts it once per home chat, as it then stands."""

from __future__ import annotations

from core.chat import handle_text
from core.models import GroupChat
from core.notices import NoticeWorker
from tests.support import Chat, RecordingNotifier

RIDGE = "/newevent hiking | Ridge | 2026-12-06 07:30 | Trailhead | free | 5"


async def _hiking_with_homes(chat: Chat) -> RecordingNotifier:
    sent = chat.services.notifiers["test"] = RecordingNotifier()
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("ann", "/join hiking")
    async with chat.services.db.uow() as uow:
        for home in ("hikers", "trail-talk"):
            uow.session.add(GroupChat(group_id=1, platform="test", chat_id=home, locale="en"))
        await uow.commit()
    return sent


async def test_an_announcement_outlives_the_process_that_made_it(chat: Chat) -> None:
    sent = await _hiking_with_homes(chat)
    await chat.unattended("maya", RIDGE)
    await chat.unattended("ann", "/post hiking The ridge trail is dry again")
    assert sent.posted == []

    assert await NoticeWorker(chat.services, worker="next process").run_due() == 4
    where = sorted((chat_id, card.text.splitlines()[0]) for chat_id, card in sent.posted)
    assert [chat_id for chat_id, _ in where] == ["hikers", "hikers", "trail-talk", "trail-talk"]
    assert any("Ridge" in card.text for chat_id, card in sent.posted if chat_id == "hikers")
    assert any("ridge trail is dry" in card.text for chat_id, card in sent.posted)
    assert await NoticeWorker(chat.services, worker="and another").run_due() == 0  # not twice


async def test_nothing_stale_is_announced(chat: Chat) -> None:
    """Cancelled, deleted or unbound before the worker ran: not posted."""
    sent = await _hiking_with_homes(chat)
    await chat.unattended("maya", RIDGE)
    await chat.unattended("maya", "/cancelevent 1")
    await chat.unattended("ann", "/post hiking Soon gone")
    await chat.unattended("ann", "dp:1")
    await chat.unattended("ann", "/post hiking Still here")
    async with chat.services.db.uow() as uow:
        home = await uow.session.get(GroupChat, 2)
        await uow.session.delete(home)
        await uow.commit()

    assert await NoticeWorker(chat.services).run_due() == 1
    [(chat_id, card)] = sent.posted
    assert chat_id == "hikers" and "Still here" in card.text


async def test_an_activity_created_in_a_home_chat_is_not_announced_there_again(
    chat: Chat,
) -> None:
    sent = await _hiking_with_homes(chat)
    context = await chat.context("maya")
    context.chat, context.in_group_chat = ("test", "hikers"), True
    reply = await handle_text(context, RIDGE)
    assert reply.text.startswith("Activity #1 created.")
    await chat.settled()
    assert [chat_id for chat_id, _ in sent.posted] == ["trail-talk"]


async def test_a_post_written_in_a_home_chat_is_not_announced_there_again(chat: Chat) -> None:
    """The answer in the chat it was written in is the post as everyone there sees it (no
    Delete of the author's own): the announcement goes to the other home chats only."""
    sent = await _hiking_with_homes(chat)
    context = await chat.context("ann")
    context.chat, context.in_group_chat = ("test", "hikers"), True
    reply = await handle_text(context, "/post hiking The ridge trail is dry again")
    assert reply.text.startswith("Posted.")
    labels = [button.label for row in reply.cards[-1].buttons for button in row]
    assert not any("Delete" in label for label in labels)
    assert reply.cards[-1].live is not None and not reply.cards[-1].live.personal
    await chat.settled()
    assert [chat_id for chat_id, _ in sent.posted] == ["trail-talk"]
