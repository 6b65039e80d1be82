"""Posts: newest first with pages and pins, likes and replies, who may delete, and what people
outside a private group can see (nothing)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import pytest

from core.actions import encode
from core.cards import Reply
from core.chat import Services, handle_action, handle_text
from core.clock import FrozenClock
from core.db import Database
from core.errors import DomainError
from core.models import GroupChat
from core.notices import NoticeWorker
from core.services import events, groups, people, posts
from core.services.events import EventDraft
from core.services.posts import PAGE_SIZE
from tests.support import Chat, RecordingNotifier


async def _person(db: Database, clock: FrozenClock, name: str) -> int:
    async with db.uow() as uow:
        actor = await people.resolve_actor(
            uow, clock, platform="test", external_id=name.lower(), display_name=name
        )
    return actor.person_id


async def _post(db: Database, clock: FrozenClock, author: int, ref: str, body: str) -> int:
    async with db.uow() as uow:
        return (await posts.create_post(uow, clock, author, ref, body)).post.id  # type: ignore[return-value]


async def _page(db: Database, viewer: int, ref: str, page: int = 1):
    async with db.uow(readonly=True) as uow:
        return await posts.list_posts(uow, viewer, ref, page)


async def _refused(code: str, coro) -> None:
    with pytest.raises(DomainError) as caught:
        await coro
    assert caught.value.code == code


@pytest.fixture
async def club(db: Database, clock: FrozenClock) -> dict[str, int]:
    """Maya owns public Hiking and private Secret; Bob and Leo are in both, Olga in neither."""
    ids = {n: await _person(db, clock, n) for n in ("Maya", "Bob", "Leo", "Olga")}
    async with db.uow() as uow:
        await groups.create_group(uow, clock, ids["Maya"], name="Hiking")
    async with db.uow() as uow:
        secret = await groups.create_group(uow, clock, ids["Maya"], name="Secret", private=True)
    for name in ("Bob", "Leo"):
        async with db.uow() as uow:
            await groups.join_group(uow, clock, ids[name], "hiking")
        async with db.uow() as uow:
            await groups.join_group(uow, clock, ids[name], "secret")
        async with db.uow() as uow:
            await groups.decide_request(uow, clock, ids["Maya"], secret.id, ids[name], approve=True)  # type: ignore[arg-type]
    return ids


async def test_a_new_post_is_answered_as_it_reads_back(
    db: Database, clock: FrozenClock, club: dict[str, int]
) -> None:
    """/post answers with the new post's card without reading it back: what it shows is
    what the post's own card shows when opened afterwards."""
    async with db.uow() as uow:
        made = await posts.create_post(uow, clock, club["Bob"], "hiking", "Ridge trail is dry.")
    async with db.uow(readonly=True) as uow:
        read, _ = await posts.get_post(uow, club["Bob"], made.post.id)  # type: ignore[arg-type]
    assert made == read
    assert (made.author_name, made.likes, made.replies) == ("Bob", 0, 0)
    assert made.viewer_is_author and made.viewer_can_moderate and not made.viewer_is_admin


# ---- order, pages, pins --------------------------------------------------------------------


async def test_posts_newest_first_in_pages(
    db: Database, clock: FrozenClock, club: dict[str, int]
) -> None:
    ids = []
    for n in range(12):
        ids.append(await _post(db, clock, club["Bob"], "hiking", f"Post {n}"))
        clock.advance(timedelta(minutes=1))
    newest_first = list(reversed(ids))

    pages = [await _page(db, club["Olga"], "hiking", n) for n in (1, 2, 3)]
    assert [p.pages for p in pages] == [3, 3, 3]
    assert [[v.post.id for v in p.posts] for p in pages] == [
        newest_first[:5],
        newest_first[5:10],
        newest_first[10:],
    ]
    assert (await _page(db, club["Olga"], "hiking", 99)).page == 3  # past the end: last page
    assert (await _page(db, club["Olga"], "hiking", -4)).page == 1


async def test_same_minute_posts_still_newest_first(
    db: Database, clock: FrozenClock, club: dict[str, int]
) -> None:
    ids = [await _post(db, clock, club["Bob"], "hiking", f"Post {n}") for n in range(3)]
    page = await _page(db, club["Bob"], "hiking")
    assert [v.post.id for v in page.posts] == list(reversed(ids))


async def test_pinned_posts_come_first(
    db: Database, clock: FrozenClock, club: dict[str, int]
) -> None:
    ids = []
    for n in range(8):
        ids.append(await _post(db, clock, club["Bob"], "hiking", f"Post {n}"))
        clock.advance(timedelta(minutes=1))
    async with db.uow() as uow:
        pinned = await posts.toggle_pin(uow, club["Maya"], ids[0])
    assert pinned.pinned

    page = await _page(db, club["Leo"], "hiking")
    assert [v.post.id for v in page.posts] == [ids[0], ids[7], ids[6], ids[5], ids[4]]
    assert page.posts[0].post.pinned

    async with db.uow() as uow:
        assert not (await posts.toggle_pin(uow, club["Maya"], ids[0])).pinned
    page = await _page(db, club["Leo"], "hiking")
    assert ids[0] not in [v.post.id for v in page.posts]
    async with db.uow() as uow:
        await _refused("not_admin", posts.toggle_pin(uow, club["Bob"], ids[1]))


async def test_paging_and_pinning_through_the_chat(chat: Chat, clock: FrozenClock) -> None:
    await chat.say("maya", "/newgroup Hiking")
    for n in range(PAGE_SIZE + 2):
        await chat.say("maya", f"/post hiking Story {n}")
        clock.advance(timedelta(minutes=1))
    reply = await chat.say("bob", "/posts hiking")
    assert reply.text.startswith("Posts in Hiking  1/2")
    assert "Story 6" in reply.text and "Story 1" not in reply.text
    nav = [b for row in reply.cards[-1].buttons for b in row if b.label == "Older ▶"]
    assert [b.action.args for b in nav] == [(1, 2)]  # type: ignore[union-attr]

    reply = await chat.click("bob", "gp:1:2")
    assert reply.text.startswith("Posts in Hiking  2/2")
    assert "Story 1" in reply.text and "Story 0" in reply.text and "Story 6" not in reply.text
    assert (await chat.say("bob", "/posts hiking 2")).text == reply.text

    reply = await chat.click("maya", "pn:1")
    assert reply.toast == "Pinned."
    reply = await chat.say("bob", "/posts hiking")
    assert reply.cards[1].text.startswith("📌 maya  #1 · Hiking")


async def test_a_page_number_after_a_name_of_several_words(chat: Chat, clock: FrozenClock) -> None:
    """'/posts book club 2' was "No group called “book club 2”" ('/posts book-club 2' worked),
    and '/posts hiking -1' "No group called “hiking -1”"."""
    await chat.say("maya", "/newgroup Book club")
    for n in range(PAGE_SIZE + 1):
        await chat.say("maya", f"/post book club Chapter {n}")
        clock.advance(timedelta(minutes=1))
    reply = await chat.say("bob", "/posts book club 2")
    assert reply.text.startswith("Posts in Book club  2/2") and "Chapter 0" in reply.text
    assert (await chat.say("bob", "/posts book-club 2")).text == reply.text
    for page in ("-1", "0"):
        refused = await chat.say("bob", f"/posts book club {page}")
        assert refused.text == (
            "⚠️ A page number is a whole number from 1 up, like /posts book-club 2."
        )
    await chat.say("maya", "/newgroup Book club 2")  # a name that ends in a number is a name
    assert (await chat.say("bob", "/posts book club 2")).text.startswith(
        "Posts in Book club 2  1/1"
    )


# ---- likes and replies ---------------------------------------------------------------------


async def test_likes_toggle_and_count(
    db: Database, clock: FrozenClock, club: dict[str, int]
) -> None:
    post = await _post(db, clock, club["Maya"], "hiking", "Trail is dry")

    async def like(who: str) -> tuple[bool, int]:
        async with db.uow() as uow:
            return await posts.toggle_like(uow, club[who], post)

    assert await like("Bob") == (True, 1)
    assert await like("Leo") == (True, 2)
    assert await like("Bob") == (False, 1)
    assert await like("Bob") == (True, 2)
    async with db.uow(readonly=True) as uow:
        as_bob, _ = await posts.get_post(uow, club["Bob"], post)
        as_maya, _ = await posts.get_post(uow, club["Maya"], post)
    assert (as_bob.likes, as_bob.liked_by_viewer) == (2, True)
    assert (as_maya.likes, as_maya.liked_by_viewer) == (2, False)
    async with db.uow() as uow:
        await _refused("not_member", posts.toggle_like(uow, club["Olga"], post))


async def test_like_button_through_the_chat(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/post hiking Trail is dry")
    await chat.say("bob", "/join hiking")
    reply = await chat.click("bob", "lk:1")
    assert reply.toast == "Liked." and reply.edit
    assert reply.cards[0].buttons[0][0].label == "♥ 1"
    reply = await chat.click("bob", "lk:1")
    assert reply.toast == "Like removed."
    assert reply.cards[0].buttons[0][0].label == "♡ 0"


async def test_replies_in_order(db: Database, clock: FrozenClock, club: dict[str, int]) -> None:
    post = await _post(db, clock, club["Maya"], "hiking", "Who's coming Sunday?")
    for who, text in (("Bob", "Me!"), ("Leo", "Count me in"), ("Maya", "Great")):
        async with db.uow() as uow:
            await posts.reply(uow, clock, club[who], post, text)
    async with db.uow(readonly=True) as uow:
        view, replies = await posts.get_post(uow, club["Olga"], post)  # public: Olga can read
    assert view.replies == 3
    assert [(r.author_name, r.comment.body) for r in replies] == [
        ("Bob", "Me!"),
        ("Leo", "Count me in"),
        ("Maya", "Great"),
    ]
    async with db.uow() as uow:
        await _refused("not_member", posts.reply(uow, clock, club["Olga"], post, "Hi"))


async def test_reply_through_the_chat(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/post hiking Who's coming Sunday?")
    await chat.say("bob", "/join hiking")
    reply = await chat.say("bob", "/reply 1 Me, with snacks")
    assert "bob: Me, with snacks" in reply.text
    assert "💬 Replies (1)" in [b.label for b in reply.cards[0].buttons[0]]
    assert "bob: Me, with snacks" in (await chat.click("maya", "rp:1")).text


# ---- deleting ------------------------------------------------------------------------------


async def test_author_or_admin_deletes(
    db: Database, clock: FrozenClock, club: dict[str, int]
) -> None:
    bobs = await _post(db, clock, club["Bob"], "hiking", "Bob's post")
    leos = await _post(db, clock, club["Leo"], "hiking", "Leo's post")
    mayas = await _post(db, clock, club["Maya"], "hiking", "Maya's post")

    async with db.uow() as uow:
        await _refused("not_post_author", posts.delete_post(uow, club["Bob"], leos))
    async with db.uow() as uow:
        await _refused("not_post_author", posts.delete_post(uow, club["Leo"], mayas))
    async with db.uow() as uow:
        await posts.delete_post(uow, club["Bob"], bobs)
    async with db.uow() as uow:
        await posts.delete_post(uow, club["Maya"], leos)  # the owner moderates

    page = await _page(db, club["Bob"], "hiking")
    assert [v.post.id for v in page.posts] == [mayas]
    async with db.uow(readonly=True) as uow:
        await _refused("post_not_found", posts.get_post(uow, club["Bob"], bobs))
    async with db.uow() as uow:
        await _refused("post_not_found", posts.toggle_like(uow, club["Leo"], leos))
    async with db.uow() as uow:
        await _refused("post_not_found", posts.delete_post(uow, club["Bob"], bobs))


async def test_delete_button_is_offered_only_to_who_may_use_it(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("bob", "/join hiking")
    await chat.say("leo", "/join hiking")
    await chat.say("bob", "/post hiking Bob's post")

    def labels(reply) -> list[str]:
        return [b.label for b in reply.cards[1].buttons[0]]

    assert "🗑 Delete" in labels(await chat.say("bob", "/posts hiking"))
    assert "🗑 Delete" in labels(await chat.say("maya", "/posts hiking"))
    assert "🗑 Delete" not in labels(await chat.say("leo", "/posts hiking"))
    assert (await chat.click("leo", "dp:1")).toast == (
        "Only the author or a group admin can delete a post."
    )
    sent = chat.services.notifiers["test"] = RecordingNotifier()
    reply = await chat.click("bob", "dp:1")
    assert reply.toast == "Post deleted."
    assert sent.sent == []  # his own: nobody to tell
    assert "No posts yet" in (await chat.say("leo", "/posts hiking")).text
    await chat.say("leo", "/post hiking Buy my stuff")
    assert (await chat.click("maya", "dp:2")).toast == "Post deleted."
    assert sent.texts_to("leo") == ["An admin of Hiking removed your post #2:\nBuy my stuff"]
    assert len(sent.sent) == 1


async def test_two_admins_deleting_one_post_at_once_tell_its_author_once(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both read the post before either committed: both deleted it, and its author could be
    told twice. The second now waits for the first (a row lock on PostgreSQL; SQLite's
    writers take turns) and finds the post gone."""
    sent = chat.services.notifiers["test"] = RecordingNotifier()
    await chat.say("maya", "/newgroup Hiking")
    for who in ("bob", "leo"):
        await chat.say(who, "/join hiking")
    await chat.say("maya", "/promote hiking bob")
    await chat.say("leo", "/post hiking Buy my stuff")
    admins = [await chat.person_id("maya"), await chat.person_id("bob")]

    read, both, load_post = [], asyncio.Event(), posts.load_post

    async def both_read_first(*args, **kwargs):  # each reader waits (a while) for the other
        found = await load_post(*args, **kwargs)
        read.append(True)
        if len(read) == 2:
            both.set()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.5):
                await both.wait()
        return found

    monkeypatch.setattr(posts, "load_post", both_read_first)

    async def delete(admin: int) -> str:
        async with chat.services.db.uow() as uow:
            try:
                await posts.delete_post(uow, admin, 1)
            except DomainError as error:
                return error.code
        return "deleted"

    outcomes = await asyncio.gather(*(delete(admin) for admin in admins))
    assert sorted(outcomes) == ["deleted", "post_not_found"]
    await chat.settled()
    assert sent.texts_to("leo") == ["An admin of Hiking removed your post #1:\nBuy my stuff"]


# ---- privacy -------------------------------------------------------------------------------


async def test_outsiders_see_nothing_of_a_private_group(
    db: Database, clock: FrozenClock, club: dict[str, int]
) -> None:
    maya, olga, bob = club["Maya"], club["Olga"], club["Bob"]
    post = await _post(db, clock, bob, "secret", "Members only")
    draft = EventDraft("Picnic", clock.now() + timedelta(days=2), "Garden")
    async with db.uow() as uow:
        event = (await events.create_event(uow, clock, maya, "secret", draft)).event.id
    async with db.uow() as uow:
        await events.sign_up(uow, clock, bob, event)  # type: ignore[arg-type]
    pending = await _person(db, clock, "Pat")
    async with db.uow() as uow:
        await groups.join_group(uow, clock, pending, "secret")  # asked, not yet in

    for outsider in (olga, pending):
        async with db.uow(readonly=True) as uow:
            await _refused("private_group", posts.list_posts(uow, outsider, "secret"))
            await _refused("private_group", posts.get_post(uow, outsider, post))
            await _refused("private_group", events.get_event(uow, outsider, event))  # type: ignore[arg-type]
            await _refused("private_group", events.attendees(uow, outsider, event))  # type: ignore[arg-type]
            await _refused("private_group", events.upcoming(uow, clock, outsider, "secret"))
            everything = await events.upcoming(uow, clock, outsider)
        assert everything == []
        async with db.uow() as uow:
            await _refused("private_group", events.sign_up(uow, clock, outsider, event))  # type: ignore[arg-type]

    async with db.uow(readonly=True) as uow:
        assert [v.post.id for v in (await posts.list_posts(uow, bob, "secret")).posts] == [post]
        assert (await events.attendees(uow, bob, event)).confirmed == ["Bob"]  # type: ignore[arg-type]
        assert [v.event.id for v in await events.upcoming(uow, clock, bob)] == [event]
        assert [v.event.id for v in await events.upcoming(uow, clock, maya)] == [event]


async def test_upcoming_mixes_public_and_my_private_groups(
    db: Database, clock: FrozenClock, club: dict[str, int]
) -> None:
    maya = club["Maya"]
    titles = {}
    for ref, title, days in (("secret", "Picnic", 1), ("hiking", "Ridge", 2)):
        draft = EventDraft(title, clock.now() + timedelta(days=days), "Somewhere")
        async with db.uow() as uow:
            titles[title] = (await events.create_event(uow, clock, maya, ref, draft)).event.id

    async def upcoming(who: str) -> list[str]:
        async with db.uow(readonly=True) as uow:
            return [v.event.title for v in await events.upcoming(uow, clock, club[who])]

    assert await upcoming("Olga") == ["Ridge"]
    assert await upcoming("Leo") == ["Picnic", "Ridge"]
    async with db.uow() as uow:
        await events.leave_and_release(uow, clock, club["Leo"], "secret")
    assert await upcoming("Leo") == ["Ridge"]


async def test_private_group_through_the_chat(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Secret | | | private")
    await chat.say("maya", "/post secret The key is under the mat")
    await chat.say("maya", "/newevent secret | Picnic | 2026-12-06 12:00 | Garden")
    private = "⚠️ Secret is a private group: only its members can see and do that."
    assert (await chat.say("olga", "/posts secret")).text == private
    assert (await chat.say("olga", "/replies 1")).text == private
    assert (await chat.say("olga", "/event 1")).text == private
    assert (await chat.say("olga", "/who 1")).text == private
    assert (await chat.say("olga", "/events secret")).text == private
    assert "Picnic" not in (await chat.say("olga", "/events")).text
    assert "Picnic" in (await chat.say("maya", "/events")).text
    # the group itself is listed, so people can ask to join
    reply = await chat.say("olga", "/groups")
    assert "Secret (secret) 🔒" in reply.text
    assert "mat" not in (await chat.say("olga", "/group secret")).text


async def _in_chat(
    chat: Chat, who: str, chat_id: str, text: str, locale: str | None = None
) -> Reply:
    """`who` sends `text` in the shared chat `chat_id`, where everyone reads the answer."""
    context = await chat.context(who, locale)
    context.in_group_chat, context.chat = True, ("test", chat_id)
    reply = await handle_text(context, text)
    await chat.settled()
    return reply


def _labels(reply: Reply) -> list[str]:
    return [button.label for card in reply.cards for row in card.buttons for button in row]


async def test_a_private_groups_posts_stay_out_of_chats_that_are_not_its_home(
    chat: Chat,
) -> None:
    """Maya, a member of private Secret, sent /posts secret, /replies 1 and /post secret in a
    random group chat: "Maya #1 · Secret / Private: door code is 4711" showed there for
    everyone. Now a private group's posts and replies show only in its own (home) chats; a
    refused /post or /reply writes nothing."""
    await chat.say("maya", "/newgroup Secret | | | private")
    await chat.say("maya", "/post secret Private: door code is 4711")
    await chat.say("maya", "/reply 1 Change it monthly")
    async with chat.services.db.uow() as uow:
        uow.session.add(GroupChat(group_id=1, platform="test", chat_id="-100home", locale="en"))
        await uow.commit()

    refused = (
        "⚠️ Secret is a private group: send me this in a private chat, or in the group's own chat."
    )
    for text in (
        "/posts secret",
        "/replies 1",
        "/reply 1 Noted",
        "/editpost 1 Private: door code is 1234",
        "/deletereply 1",
        "/post secret Another secret",
    ):
        reply = await _in_chat(chat, "maya", "-100random", text)
        assert reply.text == refused, text
        assert "4711" not in reply.text
    shown = (await chat.say("maya", "/replies 1")).text  # nothing was written there
    assert "door code is 4711" in shown and "[1] maya: Change it monthly" in shown
    assert "Noted" not in shown and "1234" not in shown
    assert "Another secret" not in (await chat.say("maya", "/posts secret")).text

    assert "door code is 4711" in (await _in_chat(chat, "maya", "-100home", "/posts secret")).text
    assert "Noted" in (await _in_chat(chat, "maya", "-100home", "/reply 1 Noted")).text
    # a public group's posts are for anyone: shown in any chat
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/post hiking The ridge is dry")
    assert "The ridge is dry" in (await _in_chat(chat, "maya", "-100random", "/posts hiking")).text


async def test_a_shared_chat_sees_a_post_as_everyone_there_does(chat: Chat) -> None:
    """/replies, /reply, /editpost and /deletereply in a group chat answered with the sender's
    own card: Maya's (the owner's) Pin and Delete, the author's Delete without Report. Now as
    /posts there: nobody's like or rights, so Report for everyone, no Pin, no Delete."""
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("bob", "/join hiking")
    await chat.say("bob", "/post hiking The ridge is dry")
    await chat.click("bob", "lk:1")
    own = _labels(await chat.say("maya", "/replies 1"))
    assert "📌 Pin" in own and "🗑 Delete" in own  # in her private chat, hers

    for who, text in (
        ("maya", "/replies 1"),
        ("bob", "/reply 1 Bring boots"),
        ("bob", "/editpost 1 The ridge is muddy"),
        ("maya", "/deletereply 1"),
    ):
        labels = _labels(await _in_chat(chat, who, "-100", text))
        assert "♡ 1" in labels and "⚠️ Report" in labels, text
        assert not any("Pin" in label or "Delete" in label for label in labels), text


async def test_a_shared_chat_reads_post_answers_in_its_language(chat: Chat) -> None:
    """李伟's /posts in an English home chat had a Chinese header over English cards, his
    /post "已发布。" above an English card. Now the chat's language, whoever asks: the one its
    home was bound in, else the community's. The deleted post's card there said "帖子已删除。"."""
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("li", "/join hiking", locale="zh-hans")
    async with chat.services.db.uow() as uow:
        uow.session.add(GroupChat(group_id=1, platform="test", chat_id="-100", locale="en"))
        await uow.commit()
    assert not (await chat.say("li", "/posts hiking", locale="zh-hans")).text.startswith(
        "Posts in"
    )  # his private chat: his language

    posted = await _in_chat(chat, "li", "-100", "/post hiking 大家好", locale="zh-hans")
    assert posted.text.startswith("Posted.\n") and "💬 Replies (0)" in _labels(posted)
    listed = await _in_chat(chat, "li", "-100", "/posts hiking", locale="zh-hans")
    assert listed.text.startswith("Posts in Hiking  1/1")
    replied = await _in_chat(chat, "li", "-100other", "/reply 1 回复", locale="zh-hans")
    assert "💬 Replies (1)" in _labels(replied) and "⚠️ Report" in _labels(replied)
    assert "Reply with /reply 1 <text>" in replied.text

    context = await chat.context("li", "zh-hans")  # his Delete, tapped on his own copy there
    context.in_group_chat, context.chat = True, ("test", "-100")
    deleted = await handle_action(context, "dp:1")
    assert deleted.edit and deleted.text == "Post deleted."  # the card, as everyone sees it
    assert deleted.toast != "Post deleted."  # his pop-up: his language


async def test_a_page_past_the_last_says_so_and_shows_the_last(
    chat: Chat, clock: FrozenClock
) -> None:
    """'/posts trail runners 99' showed page 1 ("1/1") without a word."""
    await chat.say("maya", "/newgroup Trail Runners")
    await chat.say("maya", "/post trail runners First run")
    reply = await chat.say("maya", "/posts trail runners 99")
    assert reply.text.startswith(
        "There is only 1 page of posts: here it is.\n\nPosts in Trail Runners  1/1"
    )
    for n in range(PAGE_SIZE):
        clock.advance(timedelta(minutes=1))
        await chat.say("maya", f"/post trail runners Run {n}")
    reply = await chat.say("maya", "/posts trail runners 3")
    assert reply.text.startswith(
        "There are only 2 pages of posts: here is the last.\n\nPosts in Trail Runners  2/2"
    )
    assert "First run" in reply.text
    assert (await chat.say("maya", "/posts trail runners 2")).text.startswith("Posts in")


async def test_a_reply_keeps_every_character_it_was_given(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/post hiking Trail report")
    reply = await chat.say("maya", "/reply 1 left | right, both muddy")
    assert "left | right, both muddy" in reply.text


# ---- editing, reply notices, deleting replies, reports ---------------------------------------


async def test_the_author_edits_their_post_and_nobody_else_can(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/post hiking The ridge is dry")
    await chat.say("bob", "/join hiking")

    reply = await chat.say("maya", "/editpost 1 The ridge is muddy | bring boots")
    assert reply.text.startswith("Post edited.")
    assert "The ridge is muddy | bring boots" in reply.text and "· edited" in reply.text
    assert (await chat.say("bob", "/editpost 1 Hacked")).text == (
        "⚠️ Only the author can edit a post."
    )
    assert (await chat.say("maya", "/editpost 1")).text.startswith("Give the post's number")
    assert (await chat.say("maya", "/editpost 1 " + "x" * 5000)).text.startswith("⚠️ ")
    assert "The ridge is muddy | bring boots" in (await chat.say("bob", "/replies 1")).text


async def test_the_author_is_told_of_replies_but_not_of_their_own(chat: Chat) -> None:
    sent = chat.services.notifiers["test"] = RecordingNotifier()
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/post hiking Who's coming Sunday?")
    await chat.say("bob", "/join hiking")

    await chat.say("bob", "/reply 1 Me, with snacks")
    [(to, card)] = sent.sent
    assert to == "maya"
    assert card.text == "bob replied to your post #1:\nMe, with snacks"
    [[button]] = card.buttons
    assert button.label == "💬 Replies"
    assert (button.action.act.value, button.action.args) == ("rp", (1,))
    await chat.say("maya", "/reply 1 Great!")
    await chat.say("bob", "/reply 1 " + "x" * 300)
    assert len(sent.sent) == 2  # not told of her own reply; told of each of bob's
    assert sent.sent[-1][1].text.splitlines()[1] == "x" * 200 + "…"

    await chat.say("bob", "/post hiking Bob's own")
    await chat.say("ann", "/join hiking")
    await chat.say("maya", "/ban hiking bob")
    sent.sent.clear()
    await chat.say("ann", "/reply 2 Nice")  # nothing of the group reaches Bob now
    assert sent.texts_to("bob") == []


async def test_a_reply_is_told_once_by_a_later_process_if_it_still_stands(chat: Chat) -> None:
    """The reply commits with the duty to tell its post's author: a process that dies right
    after answering leaves the notice to whichever process runs next, which tells the author
    once; a reply deleted, or one to a post deleted, before it was told is not told."""
    sent = chat.services.notifiers["test"] = RecordingNotifier()
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/post hiking Who's coming Sunday?")
    await chat.say("maya", "/post hiking Boots for sale")
    await chat.say("bob", "/join hiking")

    answer = await chat.unattended("bob", "/reply 1 Me, with snacks")
    assert "Me, with snacks" in answer.text  # bob's answer shows it at once
    assert sent.sent == []  # committed; the process "died" here
    assert await NoticeWorker(chat.services, worker="next process").run_due() == 1
    assert sent.texts_to("maya") == ["bob replied to your post #1:\nMe, with snacks"]
    assert await NoticeWorker(chat.services, worker="and another").run_due() == 0  # not twice

    sent.sent.clear()
    await chat.unattended("bob", "/reply 1 Oops, wrong post")
    await chat.unattended("bob", "/deletereply 2")
    await chat.unattended("bob", "/reply 2 How much?")
    await chat.unattended("maya", "dp:2")  # the post deleted before its reply was told
    await chat.unattended("bob", "/reply 1 See you there")
    assert await NoticeWorker(chat.services).run_due() == 1
    assert sent.texts_to("maya") == ["bob replied to your post #1:\nSee you there"]


async def test_a_reply_is_deleted_by_its_author_or_an_admin_only(chat: Chat) -> None:
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/post hiking Who's coming Sunday?")
    for who in ("bob", "leo"):
        await chat.say(who, "/join hiking")
    await chat.say("bob", "/reply 1 Me")
    await chat.say("leo", "/reply 1 Spam spam")
    shown = (await chat.say("bob", "/replies 1")).text
    assert "[1] bob: Me" in shown and "[2] leo: Spam spam" in shown

    assert (await chat.say("bob", "/deletereply 2")).text == (
        "⚠️ Only the author or a group admin can delete a reply."
    )
    reply = await chat.say("maya", "/deletereply 2")  # the group's owner
    assert reply.text.startswith("Reply deleted.") and "Spam spam" not in reply.text
    assert "Reply deleted." in (await chat.say("bob", "/deletereply 1")).text
    assert (await chat.say("bob", "/deletereply 1")).text == "⚠️ No reply #1."
    assert (await chat.say("bob", "/deletereply")).text.startswith("Which reply?")


async def test_a_reported_post_reaches_the_admins_and_operators_who_act(
    db: Database, clock: FrozenClock, settings
) -> None:
    settings.operator_ids = "test:olga"
    chat = Chat(Services(db=db, clock=clock, settings=settings))
    await chat.say("olga", "/start")  # the operator has used the bot
    await chat.say("maya", "/newgroup Hiking")
    for who in ("bob", "troll"):
        await chat.say(who, "/join hiking")
    await chat.say("troll", "/post hiking Buy my stuff")
    card = (await chat.say("bob", "/posts hiking")).cards[-1]
    assert "fp:1" in [encode(b.action) for row in card.buttons for b in row]
    troll_card = (await chat.say("troll", "/posts hiking")).cards[-1]
    assert not [b for row in troll_card.buttons for b in row if b.label == "⚠️ Report"]

    sent = chat.services.notifiers["test"] = RecordingNotifier()
    reply = await chat.click("bob", "fp:1")
    assert reply.toast == "Reported to the group's admins. Thank you."
    told = ["A post was reported (report #1).\nSee it with /reports"]
    assert (sent.texts_to("maya"), sent.texts_to("olga")) == (told, told)
    assert len(sent.sent) == 2  # the group's admin and the operator; bob, troll: no
    assert (await chat.click("bob", "fp:1")).toast == (
        "You reported that already; it is being looked at."
    )
    assert (await chat.click("troll", "fp:1")).toast == "You can't report yourself."

    assert (await chat.say("bob", "/reports")).text == "No open reports you can act on."
    listed = await chat.say("maya", "/reports")
    assert "bob reported troll · Hiking" in listed.text and "Buy my stuff" in listed.text
    assert "edited it after" not in listed.text
    await chat.say("troll", "/editpost 1 Lovely weather today")  # hiding what was reported
    listed = await chat.say("maya", "/reports")
    assert "Buy my stuff" in listed.text and "Lovely weather" not in listed.text
    assert "✏️ Its author edited it after it was reported." in listed.text
    assert "#1" in (await chat.say("olga", "/reports")).text  # operators see every report
    for forged in ("fd:1", "fx:1", "fb:1"):  # a member who is no admin: nothing changes
        assert (await chat.click("bob", forged)).toast == (
            "Only the group's admins or the community's operators can handle that report."
        )

    sent.sent.clear()
    reply = await chat.click("maya", "fb:1")
    assert reply.toast == "Banned from the group; report #1 closed."
    assert sent.texts_to("troll") == [
        "You were banned from Hiking by its admins. Any places you held in its coming "
        "activities were given up."
    ]
    assert (await chat.say("troll", "/join hiking")).text.startswith("⚠️ You are banned")
    assert (await chat.say("maya", "/reports")).text == "No open reports you can act on."
    assert (await chat.click("maya", "fd:1")).toast == "No open report #1."


def _buttons(card) -> list[str]:
    return [b.label for row in card.buttons for b in row]


async def _reporting(db: Database, clock: FrozenClock, settings) -> tuple[Chat, RecordingNotifier]:
    """Olga runs the community (OPERATOR_IDS); Maya owns Hiking, Li is its admin, Tom, Zoe and
    Mei are members."""
    settings.operator_ids = "test:olga"
    chat = Chat(Services(db=db, clock=clock, settings=settings))
    await chat.say("olga", "/start")  # the operator has used the bot
    await chat.say("maya", "/newgroup Hiking")
    for who in ("li", "tom", "zoe", "mei"):
        await chat.say(who, "/join hiking")
    await chat.say("maya", "/promote hiking li")
    sent = chat.services.notifiers["test"] = RecordingNotifier()
    return chat, sent


async def test_the_person_reported_never_hears_of_it_nor_acts_on_it_even_as_an_admin(
    db: Database, clock: FrozenClock, settings
) -> None:
    """Li, an admin, was told of Tom's report of his own post, saw "tom reported li" and
    dismissed it himself; now the report is for the other admins and the operators alone."""
    chat, sent = await _reporting(db, clock, settings)
    await chat.say("li", "/post hiking My own shop is open")
    await chat.click("tom", "fp:1")
    told = ["A post was reported (report #1).\nSee it with /reports"]
    assert (sent.texts_to("maya"), sent.texts_to("olga"), sent.texts_to("li")) == (told, told, [])
    assert (await chat.say("li", "/reports")).text == "No open reports you can act on."
    for forged in ("fd:1", "fx:1", "fb:1"):  # as if there were no such report
        refused = await chat.click("li", forged)
        assert refused.toast == "No open report #1." and "tom" not in refused.text
    assert "tom reported li" in (await chat.say("maya", "/reports")).text  # still open
    assert "My own shop" in (await chat.say("tom", "/posts hiking")).text

    sent.sent.clear()  # the only admin reported: the operators hear of it
    await chat.say("maya", "/post hiking Maya's shop")
    await chat.click("tom", "fp:2")
    assert [who for who, _ in sent.sent] == ["li", "olga"]
    assert "#2" not in (await chat.say("maya", "/reports")).text
    await chat.say("olga", "/join hiking")
    await chat.say("maya", "/promote hiking olga")
    await chat.say("olga", "/post hiking Olga's shop")
    sent.sent.clear()  # an operator reported: the group's admins hear of it, she does not
    await chat.click("tom", "fp:3")
    assert sorted(who for who, _ in sent.sent) == ["li", "maya"]
    listed = (await chat.say("olga", "/reports")).text
    assert "#1" in listed and "#3" not in listed
    assert (await chat.click("olga", "fd:3")).toast == "No open report #3."


async def test_reports_are_not_listed_in_a_group_chat(db: Database, clock, settings) -> None:
    """/reports typed in a group chat posted who reported whom, with the buttons, for all."""
    chat, _sent = await _reporting(db, clock, settings)
    await chat.say("zoe", "/post hiking Buy my stuff")
    await chat.click("tom", "fp:1")
    ctx = await chat.context("maya")
    ctx.in_group_chat = True
    refused = await handle_text(ctx, "/reports")
    assert refused.text == "⚠️ Send me /reports in a private chat: the answer is just for you."
    assert not [card for card in refused.cards if card.buttons]


async def test_an_operator_deletes_a_reported_post_but_bans_nobody(
    db: Database, clock: FrozenClock, settings
) -> None:
    """An operator who is no admin of the group had only Dismiss: the people who run the
    community could not remove reported spam. Banning stays with the group's admins, and the
    operator still cannot delete a post that was not reported."""
    chat, sent = await _reporting(db, clock, settings)
    await chat.say("zoe", "/post hiking Buy my stuff")
    await chat.say("zoe", "/post hiking Hello all")
    await chat.click("tom", "fp:1")

    [_head, card] = (await chat.say("olga", "/reports")).cards
    assert _buttons(card) == ["✔ Dismiss", "🗑 Delete post"]
    refused = await chat.click("olga", "fb:1")
    assert refused.toast == "Only admins of Hiking can do that." and refused.edit
    assert _buttons(refused.cards[0]) == ["✔ Dismiss", "🗑 Delete post"]  # redrawn as it is
    assert (await chat.click("olga", "dp:2")).toast == (
        "Only the author or a group admin can delete a post."
    )
    sent.sent.clear()
    deleted = await chat.click("olga", "fx:1")
    assert deleted.toast == "Post deleted; report #1 closed."
    assert "Buy my stuff" not in (await chat.say("tom", "/posts hiking")).text
    assert [who for who, _ in sent.sent] == ["zoe"]  # told her post was removed
    assert (await chat.say("maya", "/reports")).text == "No open reports you can act on."

    await chat.say("maya", "/newgroup Secret | | | private")  # group #2: Olga is not in it
    await chat.say("zoe", "/join secret")
    await chat.click("maya", f"ap:2:{await chat.person_id('zoe')}")
    await chat.say("zoe", "/post secret Buy my stuff")
    await chat.click("maya", "fp:3")
    assert (await chat.click("olga", "fx:2")).toast == "Post deleted; report #2 closed."
    assert "Buy my stuff" not in (await chat.say("maya", "/posts secret")).text


async def test_acting_on_a_report_closes_the_others_of_the_same_post(
    db: Database, clock: FrozenClock, settings
) -> None:
    """Li and Mei reported Zoe's post; Maya banned Zoe on Mei's report and Li's stayed open,
    offering a ban already done. Deleting or banning settles every report of the post;
    dismissing, those of the same text. A copy of /reports tapped after someone else closed
    the report shows it closed."""
    chat, _sent = await _reporting(db, clock, settings)
    await chat.say("zoe", "/post hiking Buy my stuff")
    await chat.say("zoe", "/post hiking Cheap watches")
    await chat.click("li", "fp:1")
    await chat.click("mei", "fp:1")
    await chat.click("tom", "fp:2")
    olgas = await chat.say("olga", "/reports")  # her copy, before Maya acts

    banned = await chat.click("maya", "fb:2")
    assert banned.text == (
        "Banned from the group; report #2 closed.\nAlso closed, about the same post: #1."
    )
    [_head, left] = (await chat.say("maya", "/reports")).cards
    assert left.text.startswith("#3 tom reported zoe")
    assert _buttons(left) == ["✔ Dismiss", "🗑 Delete post"]  # no Ban: she is banned already

    assert "#1 li reported zoe" in olgas.text
    refused = await chat.click("olga", "fd:1")
    assert refused.toast == "No open report #1." and refused.edit
    assert refused.cards[0].text.endswith("Closed by maya.")
    assert _buttons(refused.cards[0]) == []

    await chat.say("tom", "/post hiking Nice walk")
    await chat.click("li", "fp:3")
    await chat.click("mei", "fp:3")
    await chat.say("tom", "/editpost 3 Buy my stuff")  # reported again, as it reads now
    await chat.click("maya", "fp:3")
    dismissed = await chat.click("li", "fd:4")
    assert dismissed.text == "Report #4 dismissed.\nAlso closed, about the same post: #5."
    listed = (await chat.say("li", "/reports")).text
    assert "#6 maya reported tom" in listed and "#4" not in listed and "#5" not in listed
    assert (await chat.click("olga", "fx:5")).cards[0].text.endswith("✔ Dismissed by li.")


async def test_a_report_is_told_once_by_a_later_process_while_it_is_open(
    db: Database, clock: FrozenClock, settings
) -> None:
    """A report commits with the duty to tell those who can act on it: a process that dies
    right after answering leaves the notices to whichever process runs next, which tells each
    of them once; a report handled before it was told is not told, and a reporter who could
    act on it is not told of their own."""
    settings.operator_ids = "test:olga"
    chat = Chat(Services(db=db, clock=clock, settings=settings))
    sent = chat.services.notifiers["test"] = RecordingNotifier()
    await chat.say("olga", "/start")  # the operator has used the bot
    await chat.say("maya", "/newgroup Hiking")
    for who in ("bob", "leo", "troll"):
        await chat.say(who, "/join hiking")
    await chat.say("troll", "/post hiking Buy my stuff")
    await chat.say("troll", "/post hiking Buy more stuff")

    answer = await chat.unattended("bob", "fp:1")
    assert answer.toast == "Reported to the group's admins. Thank you."
    assert sent.sent == []  # committed; the process "died" here
    assert await NoticeWorker(chat.services, worker="next process").run_due() == 2
    told = ["A post was reported (report #1).\nSee it with /reports"]
    assert (sent.texts_to("maya"), sent.texts_to("olga")) == (told, told)
    assert await NoticeWorker(chat.services, worker="and another").run_due() == 0  # not twice

    sent.sent.clear()
    await chat.unattended("maya", "fp:2")  # the group's admin reports: the operator hears of it
    await chat.unattended("leo", "fp:1")
    await chat.unattended("olga", "fd:3")  # dismissed before anyone was told of it
    assert await NoticeWorker(chat.services).run_due() == 1
    assert [who for who, _ in sent.sent] == ["olga"]  # not maya, of her own, nor of leo's
    assert sent.texts_to("olga") == ["A post was reported (report #2).\nSee it with /reports"]

    await chat.say("troll", "/post hiking Still selling")
    await chat.say("maya", "/promote hiking bob")
    sent.sent.clear()
    await chat.unattended("leo", "fp:3")
    await chat.say("maya", "/demote hiking bob")  # before he was told: not his to act on now
    assert sorted(who for who, _ in sent.sent) == ["maya", "olga"]  # not bob

    await chat.say("troll", "/post hiking Last offer")
    await chat.say("olga", "/join hiking")
    await chat.say("maya", "/promote hiking olga")  # the operator is an admin there too
    sent.sent.clear()
    await chat.unattended("bob", "fp:4")
    await chat.say("maya", "/demote hiking olga")  # still an operator: still hers to act on
    assert "olga" in [who for who, _ in sent.sent]
