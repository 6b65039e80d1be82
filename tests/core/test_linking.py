"""Linking accounts (#13): one-time codes that expire, are single-use and cannot be guessed in
the tries allowed; a merge of two people with overlapping groups and sign-ups keeps every count
true (a property test over random histories); /unlink; the preferred platform."""

from __future__ import annotations

import asyncio
import itertools
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel, func, select

from core.chat import handle_text
from core.clock import FrozenClock
from core.db import Database
from core.errors import DomainError
from core.models import Event, Group, Identity, Like, Membership, Person, Post, Registration
from core.services import events, groups, linking, people, posts
from core.services.events import EventDraft
from tests.support import Chat, RecordingNotifier

START = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


async def _code(chat: Chat, who: str) -> str:
    reply = await chat.say(who, "/link")
    line = next(line for line in reply.text.splitlines() if line.startswith("Your code: "))
    return line.removeprefix("Your code: ")


async def test_a_code_links_two_accounts_into_one_person(chat: Chat) -> None:
    discord = Chat(chat.services, platform="discord")
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-12-06 07:30 | Trailhead | free | 5")
    await chat.say("ann", "/join hiking")
    await discord.say("ann", "/join hiking")
    await discord.say("ann", "/signup 1")

    code = await _code(chat, "ann")
    assert len(code) == 9 and code[4] == "-" and not set(code) & set("01OIL")
    reply = await discord.say("ann", f"/link {code.lower()}")  # any case, as typed
    assert reply.text.startswith("Linked: you are one person on Discord, test.")
    assert await chat.person_id("ann") == await discord.person_id("ann")
    async with chat.services.db.uow(readonly=True) as uow:
        hiking = (await uow.session.exec(select(Group))).one()
        members = (await uow.session.exec(select(func.count()).select_from(Membership))).one()
    assert hiking.members == 2 == members  # maya and ann, once
    assert "You're going" in (await chat.say("ann", "/event 1")).text  # the Discord sign-up


async def test_a_code_links_accounts_on_different_platforms_only(chat: Chat) -> None:
    """Zoe redeemed Wei's code on the same platform and became Wei: his seat, his groups, his
    place on the roster. And a second Discord account joined a person linked on Discord
    already. A person has one account on each platform: such a code is refused, and stays
    good for the account it was meant for."""
    discord = Chat(chat.services, platform="discord")
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-12-06 07:30 | Trailhead | free | 5")
    for who in ("wei", "zoe"):
        await chat.say(who, "/join hiking")
        await chat.say(who, "/signup 1")
    code = await _code(chat, "wei")
    refused = await chat.say("zoe", f"/link {code}")
    assert "both of these are on" in refused.text, refused.text
    assert await chat.person_id("zoe") != await chat.person_id("wei")
    assert "2/5 going" in (await chat.say("maya", "/event 1")).text

    assert "Linked" in (await discord.say("wei", f"/link {code}")).text  # still good
    again = await _code(chat, "wei")
    refused = await discord.say("weialt", f"/link {again}")
    assert "both of these are on Discord" in refused.text, refused.text
    assert await discord.person_id("weialt") != await chat.person_id("wei")


async def test_a_link_code_is_never_shown_in_a_group_chat(chat: Chat) -> None:
    """/link in a group chat showed the code to everyone there: whoever sent it from another
    platform became its owner, with the owner's groups and rights. /setlocation there told
    everyone where one lives."""
    context = await chat.context("maya")
    context.in_group_chat = True
    reply = await handle_text(context, "/link")
    assert "in a private chat" in reply.text and "Your code" not in reply.text
    reply = await handle_text(context, "/setlocation 52.52, 13.40")
    assert "Send me /setlocation in a private chat" in reply.text
    async with chat.services.db.uow(readonly=True) as uow:
        maya = await uow.session.get(Person, context.me)
    assert maya is not None and maya.latitude is None


async def test_codes_expire_and_are_single_use(chat: Chat) -> None:
    discord = Chat(chat.services, platform="discord")
    await discord.say("bob", "/start")
    await chat.say("carl", "/start")
    code = await _code(chat, "ann")
    chat.services.clock.advance(timedelta(minutes=10, seconds=1))
    assert "wrong, used or expired" in (await discord.say("bob", f"/link {code}")).text

    code = await _code(chat, "ann")
    assert "Linked" in (await discord.say("bob", f"/link {code}")).text
    assert "wrong, used or expired" in (await chat.say("carl", f"/link {code}")).text

    fresh = await _code(chat, "dan")
    newer = await _code(chat, "dan")  # asking again retires the first
    assert "wrong, used or expired" in (await discord.say("eve", f"/link {fresh}")).text
    assert "own code" in (await chat.say("dan", f"/link {newer}")).text


async def test_guessing_is_cut_off_after_five_tries_an_hour(chat: Chat) -> None:
    discord = Chat(chat.services, platform="discord")
    code = await _code(chat, "ann")
    for n in range(linking.TRIES_PER_HOUR):
        assert "wrong" in (await discord.say("mallory", f"/link AAAA-AAA{n + 2}")).text
    refused = await discord.say("mallory", f"/link {code}")  # even the right one, now
    assert refused.text == "⚠️ Too many wrong codes: try again in an hour."
    assert await chat.person_id("ann") != await discord.person_id("mallory")
    chat.services.clock.advance(timedelta(hours=1, seconds=1))  # the code expired meanwhile
    assert "Linked" in (await discord.say("mallory", f"/link {await _code(chat, 'ann')}")).text
    # what guessing could reach: 5 tries an hour against one live code of 31^8
    assert linking.TRIES_PER_HOUR / len(linking.ALPHABET) ** linking.LENGTH < 1e-11


async def test_unlink_gives_the_account_back_its_own_person(chat: Chat) -> None:
    discord = Chat(chat.services, platform="discord")
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("ann", "/join hiking")
    assert "only account" in (await chat.say("ann", "/unlink")).text
    code = await _code(chat, "ann")
    await discord.say("ann", f"/link {code}")

    assert "on its own again" in (await discord.say("ann", "/unlink")).text
    assert await chat.person_id("ann") != await discord.person_id("ann")
    assert "Hiking" in (await chat.say("ann", "/mygroups")).text  # stays with the other
    assert "not in any group" in (await discord.say("ann", "/mygroups")).text


async def test_the_preferred_platform_is_a_setting(chat: Chat) -> None:
    discord = Chat(chat.services, platform="discord")
    code = await _code(chat, "ann")
    await discord.say("ann", f"/link {code}")
    assert "on Discord first" in (await chat.say("ann", "/settings platform discord")).text
    assert "Choose one of your platforms" in (await chat.say("ann", "/settings platform fax")).text
    assert "where you used me last" in (await chat.say("ann", "/settings platform auto")).text
    async with chat.services.db.uow(readonly=True) as uow:
        person = await people.get_person(uow, await chat.person_id("ann"))
    assert person.preferred_platform is None and person.last_platform == "test"


def test_every_per_person_table_has_a_merge_rule() -> None:
    """A new table holding one row per (person, thing) must say how two people's rows merge."""
    columns = {column.table.name for column in linking.person_columns()}
    keyed = {
        table.name
        for table in SQLModel.metadata.sorted_tables
        if table.name in columns
        for constraint in table.constraints
        if isinstance(constraint, sa.UniqueConstraint)
        and any(
            fk.parent.name in constraint.columns.keys()
            for fk in table.foreign_keys
            if fk.column.table.name == "person"
        )
    }
    assert keyed <= set(linking.MERGE_RULES), keyed - set(linking.MERGE_RULES)


# ---- property: merging keeps every count true --------------------------------------------

_EXAMPLES = itertools.count()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("linking") / "template.db"

    async def migrate() -> None:
        database = Database(f"sqlite+aiosqlite:///{path}")
        await database.migrate()
        await database.dispose()

    asyncio.run(migrate())
    return path


ACTS = st.lists(
    st.tuples(
        st.sampled_from(["join", "leave", "sign_up", "cancel", "maybe", "like", "post"]),
        st.sampled_from(["a", "b", "x"]),  # a and b are merged at the end; x is someone else
        st.integers(min_value=0, max_value=2),  # which group / activity / post
    ),
    max_size=25,
)


async def _history(path: Path, acts: list[tuple[str, str, int]]) -> None:
    db = Database(f"sqlite+aiosqlite:///{path}")
    clock = FrozenClock(START)
    try:
        ids = {}
        for name in ("org", "a", "b", "x"):
            async with db.uow() as uow:
                actor = await people.resolve_actor(
                    uow,
                    clock,
                    platform="telegram" if name != "b" else "discord",
                    external_id=name,
                    display_name=name,
                )
            ids[name] = actor.person_id
        activity = []
        for n in range(3):
            async with db.uow() as uow:
                await groups.create_group(uow, clock, ids["org"], name=f"Group {n}")
            async with db.uow() as uow:
                view = await events.create_event(
                    uow,
                    clock,
                    ids["org"],
                    f"group-{n}",
                    EventDraft(f"Walk {n}", START + timedelta(days=3), "Here", capacity=1 + n % 2),
                )
            activity.append(view.event.id)
        for kind, who, n in acts:
            me = ids[who]
            try:
                async with db.uow() as uow:
                    if kind == "join":
                        await groups.join_group(uow, clock, me, f"group-{n}")
                    elif kind == "leave":
                        await events.leave_and_release(uow, clock, me, f"group-{n}")
                    elif kind == "sign_up":
                        await events.sign_up(uow, clock, me, activity[n])
                    elif kind == "cancel":
                        await events.cancel_signup(uow, clock, me, activity[n])
                    elif kind == "maybe":
                        await events.maybe(uow, clock, me, activity[n])
                    elif kind == "post":
                        await posts.create_post(uow, clock, me, f"group-{n}", f"hi {n}")
                    else:
                        found = (await uow.session.exec(select(Post.id).limit(1).offset(n))).first()
                        if found is not None:
                            await posts.toggle_like(uow, me, found)
            except DomainError:
                pass
            clock.advance(timedelta(minutes=1))
        async with db.uow() as uow:
            await linking.merge(uow, clock, ids["a"], ids["b"])
            await uow.commit()
        await _counts_are_true(db, ids["a"], ids["b"])
    finally:
        await db.dispose()


async def _counts_are_true(db: Database, kept: int, gone: int) -> None:
    async with db.uow(readonly=True) as uow:
        assert await uow.session.get(Person, gone) is None
        for group in (await uow.session.exec(select(Group))).all():
            active = (
                await uow.session.exec(
                    select(func.count()).where(
                        Membership.group_id == group.id, Membership.status == "active"
                    )
                )
            ).one()
            assert group.members == active, group.name
        for event in (await uow.session.exec(select(Event))).all():
            rows = (
                await uow.session.exec(
                    select(Registration).where(Registration.event_id == event.id)
                )
            ).all()
            going = sum(1 + r.guests for r in rows if r.status == "confirmed")
            waiting = sum(1 + r.guests for r in rows if r.status == "waitlisted")
            assert (event.going, event.waiting) == (going, waiting), event.title
            assert event.capacity is None or going <= event.capacity  # never overbooked
            if waiting and event.capacity is not None:
                assert going == event.capacity  # nobody waits beside a free seat
            assert len({r.person_id for r in rows}) == len(rows)  # one place each
        mine = (await uow.session.exec(select(Identity).where(Identity.person_id == kept))).all()
        assert {i.platform for i in mine} == {"telegram", "discord"}
        likes = (await uow.session.exec(select(Like.post_id, Like.person_id))).all()
        assert len(set(likes)) == len(likes)


@settings(max_examples=30, deadline=None)
@given(acts=ACTS)
def test_merging_any_history_keeps_the_counts_true(template: Path, acts) -> None:
    target = template.parent / f"example{next(_EXAMPLES)}.db"
    shutil.copyfile(template, target)
    asyncio.run(_history(target, acts))


async def test_one_seat_for_a_person_signed_up_from_both_sides(chat: Chat) -> None:
    """Both accounts held a seat of a two-seat activity: after linking the person holds one,
    the other goes to the first person waiting, who is told."""
    discord = Chat(chat.services, platform="discord")
    sent = chat.services.notifiers["test"] = RecordingNotifier()
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-12-06 07:30 | Trailhead | free | 2")
    await chat.say("ann", "/signup 1")
    await discord.say("ann", "/signup 1")
    await chat.say("zoe", "/signup 1")  # waiting
    assert "2/2 going, 1 on the waitlist" in (await chat.say("maya", "/event 1")).text

    code = await _code(chat, "ann")
    reply = await discord.say("ann", f"/link {code}")

    assert reply.text.startswith("Linked")
    [told] = sent.texts_to("zoe")
    assert told.startswith("Good news: a seat opened up and you're in!")
    assert "2/2 going" in (await chat.say("maya", "/event 1")).text
    assert "waitlist" not in (await chat.say("maya", "/event 1")).text
    who = (await chat.say("maya", "/who 1")).text
    assert who.count("ann") == 1 and "zoe" in who


async def test_the_telegram_deep_link_finishes_linking_in_one_tap(chat: Chat) -> None:
    chat.services.settings.telegram_bot_username = "community_bot"
    discord = Chat(chat.services, platform="discord")
    asked = await discord.say("ann", "/link")
    [[button]] = asked.cards[0].buttons
    assert button.url is not None and button.url.startswith(
        "https://t.me/community_bot?start=link_"
    )
    payload = button.url.split("?start=")[1]  # what Telegram sends as /start <payload>
    assert "Linked" in (await chat.say("ann", f"/start {payload}")).text
    assert await chat.person_id("ann") == await discord.person_id("ann")
