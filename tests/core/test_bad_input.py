"""Bad input never changes anything: every service refuses it with its stable error code and the
database is exactly as before; through the chat the person reads the translated message."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from core.chat import Services
from core.chat.registry import COMMANDS
from core.clock import FrozenClock
from core.db import Database
from core.errors import DomainError
from core.i18n import Translator
from core.models import Role
from core.notices import NoticeWorker
from core.parsing import Fee, parse_fee
from core.services import events, groups, people, posts
from core.services.events import EventDraft
from core.uow import UnitOfWork
from tests.support import Chat

HUGE = "x" * 10_000


async def snapshot(db: Database) -> dict[str, list[tuple]]:
    """Every row of every table, as plain values: equal snapshots mean nothing changed."""
    async with db.uow(readonly=True) as uow:
        return {
            table.name: [
                tuple(row)
                for row in await uow.session.exec(
                    sa.select(table).order_by(*table.primary_key.columns)
                )
            ]
            for table in SQLModel.metadata.sorted_tables
        }


@dataclass
class World:
    db: Database
    clock: FrozenClock
    maya: int  # owner of Hiking (public) and Secret (private)
    leo: int  # admin of Hiking
    bob: int  # member of Hiking
    carl: int  # banned from Hiking
    olga: int  # in no group
    event: int  # Hiking activity by maya, 2 seats, bob signed up
    post: int  # by maya in Hiking
    secret_event: int
    secret_post: int
    secret: int  # id of the private group

    def draft(self, **changes: object) -> EventDraft:
        fields: dict = dict(
            title="Ridge walk", starts_at=self.clock.now() + timedelta(days=5), place="Trailhead"
        )
        fields.update(changes)
        return EventDraft(**fields)


async def _person(db: Database, clock: FrozenClock, name: str) -> int:
    async with db.uow() as uow:
        actor = await people.resolve_actor(
            uow, clock, platform="test", external_id=name, display_name=name
        )
    return actor.person_id


@pytest.fixture
async def world(db: Database, clock: FrozenClock, services: Services) -> World:
    ids = {n: await _person(db, clock, n) for n in ("maya", "leo", "bob", "carl", "olga")}
    async with db.uow() as uow:
        await groups.create_group(uow, clock, ids["maya"], name="Hiking")
    async with db.uow() as uow:
        secret = await groups.create_group(uow, clock, ids["maya"], name="Secret", private=True)
    for name in ("leo", "bob", "carl"):
        async with db.uow() as uow:
            await groups.join_group(uow, clock, ids[name], "hiking")
    async with db.uow() as uow:
        await groups.set_role(uow, ids["maya"], "hiking", "leo", Role.ADMIN)
    async with db.uow() as uow:
        await events.ban_and_release(uow, clock, ids["maya"], "hiking", "carl")
    start = clock.now() + timedelta(days=5)
    async with db.uow() as uow:
        event = await events.create_event(
            uow, clock, ids["maya"], "hiking", EventDraft("Ridge", start, "Trailhead", capacity=2)
        )
    async with db.uow() as uow:
        secret_event = await events.create_event(
            uow, clock, ids["maya"], "secret", EventDraft("Picnic", start, "Garden")
        )
    async with db.uow() as uow:
        await events.sign_up(uow, clock, ids["bob"], event.event.id)  # type: ignore[arg-type]
    async with db.uow() as uow:
        post = await posts.create_post(uow, clock, ids["maya"], "hiking", "Trail is dry.")
    async with db.uow() as uow:
        secret_post = await posts.create_post(uow, clock, ids["maya"], "secret", "Members only.")
    await NoticeWorker(services).run_due()  # Carl is told of his ban, as a worker would
    return World(
        db=db,
        clock=clock,
        event=event.event.id,  # type: ignore[arg-type]
        post=post.post.id,  # type: ignore[arg-type]
        secret_event=secret_event.event.id,  # type: ignore[arg-type]
        secret_post=secret_post.post.id,  # type: ignore[arg-type]
        secret=secret.id,  # type: ignore[arg-type]
        **ids,
    )


Call = Callable[[UnitOfWork, World], Awaitable[object]]


def _in_past(w: World) -> EventDraft:
    return w.draft(starts_at=w.clock.now() - timedelta(minutes=1))


# (code, service call). Each call runs in its own unit of work as the named person.
CASES: dict[str, tuple[str, Call]] = {
    # groups
    "group name empty": (
        "name_empty",
        lambda u, w: groups.create_group(u, w.clock, w.olga, name=""),
    ),
    "group name only control chars": (
        "name_empty",
        lambda u, w: groups.create_group(u, w.clock, w.olga, name=" \x00\x1b\x07 "),
    ),
    "group name one letter": (
        "name_too_short",
        lambda u, w: groups.create_group(u, w.clock, w.olga, name="x"),
    ),
    "group name 10 kB": (
        "name_too_long",
        lambda u, w: groups.create_group(u, w.clock, w.olga, name=HUGE),
    ),
    "group description 10 kB": (
        "description_too_long",
        lambda u, w: groups.create_group(u, w.clock, w.olga, name="Chess", description=HUGE),
    ),
    "group bad timezone": (
        "bad_timezone",
        lambda u, w: groups.create_group(u, w.clock, w.olga, name="Chess", timezone="Mars/Base"),
    ),
    "group too many tags": (
        "too_many_tags",
        lambda u, w: groups.create_group(
            u, w.clock, w.olga, name="Chess", tags=",".join(f"t{n}" for n in range(11))
        ),
    ),
    "group tag too long": (
        "tag_too_long",
        lambda u, w: groups.create_group(u, w.clock, w.olga, name="Chess", tags="y" * 25),
    ),
    "group name taken (other case)": (
        "group_exists",
        lambda u, w: groups.create_group(u, w.clock, w.olga, name="HIKING"),
    ),
    "join unknown group": (
        "group_not_found",
        lambda u, w: groups.join_group(u, w.clock, w.olga, "knitting"),
    ),
    "join no group given": (
        "group_missing",
        lambda u, w: groups.join_group(u, w.clock, w.olga, " "),
    ),
    "join while banned": ("banned", lambda u, w: groups.join_group(u, w.clock, w.carl, "hiking")),
    "leave as owner": (
        "owner_cannot_leave",
        lambda u, w: events.leave_and_release(u, w.clock, w.maya, "hiking"),
    ),
    "leave when not in": (
        "not_member",
        lambda u, w: events.leave_and_release(u, w.clock, w.olga, "hiking"),
    ),
    "leave unknown group": (
        "group_not_found",
        lambda u, w: events.leave_and_release(u, w.clock, w.bob, "nope"),
    ),
    "approve as non-admin": (
        "not_admin",
        lambda u, w: groups.decide_request(u, w.clock, w.bob, w.secret, w.olga, approve=True),
    ),
    "approve unknown group": (
        "group_not_found",
        lambda u, w: groups.decide_request(u, w.clock, w.maya, 999, w.olga, approve=True),
    ),
    "approve without request": (
        "request_not_found",
        lambda u, w: groups.decide_request(u, w.clock, w.maya, w.secret, w.olga, approve=True),
    ),
    "requests as non-admin": (
        "not_admin",
        lambda u, w: groups.pending_requests(u, w.bob, "hiking"),
    ),
    "ban as member": (
        "not_admin",
        lambda u, w: events.ban_and_release(u, w.clock, w.bob, "hiking", "leo"),
    ),
    "ban yourself": (
        "ban_self",
        lambda u, w: events.ban_and_release(u, w.clock, w.leo, "hiking", "leo"),
    ),
    "admin bans owner": (
        "target_is_owner",
        lambda u, w: events.ban_and_release(u, w.clock, w.leo, "hiking", "maya"),
    ),
    "ban unknown person": (
        "person_not_found",
        lambda u, w: events.ban_and_release(u, w.clock, w.maya, "hiking", "nobody"),
    ),
    "promote as admin": (
        "not_owner",
        lambda u, w: groups.set_role(u, w.leo, "hiking", "bob", Role.ADMIN),
    ),
    "promote banned person": (
        "bad_role_target",
        lambda u, w: groups.set_role(u, w.maya, "hiking", "carl", Role.ADMIN),
    ),
    "member events as member": (
        "not_admin",
        lambda u, w: groups.set_members_can_create_events(u, w.bob, "hiking", True),
    ),
    # posts
    "post empty": ("post_empty", lambda u, w: posts.create_post(u, w.clock, w.bob, "hiking", "  ")),
    "post 10 kB": (
        "post_too_long",
        lambda u, w: posts.create_post(u, w.clock, w.bob, "hiking", HUGE),
    ),
    "post in unknown group": (
        "group_not_found",
        lambda u, w: posts.create_post(u, w.clock, w.bob, "knitting", "Hi"),
    ),
    "outsider posts in private group": (
        "private_group",
        lambda u, w: posts.create_post(u, w.clock, w.olga, "secret", "Hi"),
    ),
    "outsider posts in public group": (
        "not_member",
        lambda u, w: posts.create_post(u, w.clock, w.olga, "hiking", "Hi"),
    ),
    "banned person posts": (
        "banned",
        lambda u, w: posts.create_post(u, w.clock, w.carl, "hiking", "Hi"),
    ),
    "reply empty": ("reply_empty", lambda u, w: posts.reply(u, w.clock, w.bob, w.post, "")),
    "reply 10 kB": ("reply_too_long", lambda u, w: posts.reply(u, w.clock, w.bob, w.post, HUGE)),
    "reply to unknown post": (
        "post_not_found",
        lambda u, w: posts.reply(u, w.clock, w.bob, 999, "Hi"),
    ),
    "outsider replies": ("not_member", lambda u, w: posts.reply(u, w.clock, w.olga, w.post, "Hi")),
    "outsider replies in private group": (
        "private_group",
        lambda u, w: posts.reply(u, w.clock, w.olga, w.secret_post, "Hi"),
    ),
    "outsider likes": ("not_member", lambda u, w: posts.toggle_like(u, w.olga, w.post)),
    "like unknown post": ("post_not_found", lambda u, w: posts.toggle_like(u, w.bob, 999)),
    "member deletes someone's post": (
        "not_post_author",
        lambda u, w: posts.delete_post(u, w.bob, w.post),
    ),
    "member pins": ("not_admin", lambda u, w: posts.toggle_pin(u, w.bob, w.post)),
    # activities: creating
    "title empty": (
        "title_empty",
        lambda u, w: events.create_event(u, w.clock, w.maya, "hiking", w.draft(title="")),
    ),
    "title 10 kB": (
        "title_too_long",
        lambda u, w: events.create_event(u, w.clock, w.maya, "hiking", w.draft(title=HUGE)),
    ),
    "place empty": (
        "place_empty",
        lambda u, w: events.create_event(u, w.clock, w.maya, "hiking", w.draft(place="\n")),
    ),
    "place 10 kB": (
        "place_too_long",
        lambda u, w: events.create_event(u, w.clock, w.maya, "hiking", w.draft(place=HUGE)),
    ),
    "description 10 kB": (
        "description_too_long",
        lambda u, w: events.create_event(u, w.clock, w.maya, "hiking", w.draft(description=HUGE)),
    ),
    "start in the past": (
        "start_in_past",
        lambda u, w: events.create_event(u, w.clock, w.maya, "hiking", _in_past(w)),
    ),
    "start right now": (
        "start_in_past",
        lambda u, w: events.create_event(
            u, w.clock, w.maya, "hiking", w.draft(starts_at=w.clock.now())
        ),
    ),
    "negative capacity": (
        "negative_capacity",
        lambda u, w: events.create_event(u, w.clock, w.maya, "hiking", w.draft(capacity=-1)),
    ),
    "zero capacity": (
        "negative_capacity",
        lambda u, w: events.create_event(u, w.clock, w.maya, "hiking", w.draft(capacity=0)),
    ),
    "huge capacity": (
        "capacity_too_high",
        lambda u, w: events.create_event(u, w.clock, w.maya, "hiking", w.draft(capacity=10**6)),
    ),
    "negative fee": (
        "negative_fee",
        lambda u, w: events.create_event(u, w.clock, w.maya, "hiking", w.draft(fee=Fee(-1, "EUR"))),
    ),
    "deadline after start": (
        "bad_deadline",
        lambda u, w: events.create_event(
            u,
            w.clock,
            w.maya,
            "hiking",
            w.draft(signup_deadline=w.clock.now() + timedelta(days=6)),
        ),
    ),
    "deadline in the past": (
        "bad_deadline",
        lambda u, w: events.create_event(
            u,
            w.clock,
            w.maya,
            "hiking",
            w.draft(signup_deadline=w.clock.now() - timedelta(hours=1)),
        ),
    ),
    "activity bad timezone": (
        "bad_timezone",
        lambda u, w: events.create_event(u, w.clock, w.maya, "hiking", w.draft(timezone="Nowhere")),
    ),
    "activity in unknown group": (
        "group_not_found",
        lambda u, w: events.create_event(u, w.clock, w.maya, "knitting", w.draft()),
    ),
    "member creates activity": (
        "not_organizer",
        lambda u, w: events.create_event(u, w.clock, w.bob, "hiking", w.draft()),
    ),
    "outsider creates activity": (
        "not_member",
        lambda u, w: events.create_event(u, w.clock, w.olga, "hiking", w.draft()),
    ),
    "outsider creates private activity": (
        "private_group",
        lambda u, w: events.create_event(u, w.clock, w.olga, "secret", w.draft()),
    ),
    "banned creates activity": (
        "banned",
        lambda u, w: events.create_event(u, w.clock, w.carl, "hiking", w.draft()),
    ),
    # activities: changing
    "edit unknown activity": (
        "event_not_found",
        lambda u, w: events.edit_event(u, w.clock, w.maya, 999, title="New"),
    ),
    "member edits someone's activity": (
        "not_event_manager",
        lambda u, w: events.edit_event(u, w.clock, w.bob, w.event, title="Mine now"),
    ),
    "edit to negative capacity": (
        "negative_capacity",
        lambda u, w: events.edit_event(u, w.clock, w.maya, w.event, capacity=-3),
    ),
    "edit capacity below confirmed": (
        "capacity_below_confirmed",
        lambda u, w: events.edit_event(u, w.clock, w.maya, w.event, capacity=1),
    ),
    "edit title empty": (
        "title_empty",
        lambda u, w: events.edit_event(u, w.clock, w.maya, w.event, title=""),
    ),
    "edit place 10 kB": (
        "place_too_long",
        lambda u, w: events.edit_event(u, w.clock, w.maya, w.event, place=HUGE),
    ),
    "edit start into the past": (
        "start_in_past",
        lambda u, w: events.edit_event(
            u, w.clock, w.maya, w.event, starts_at=w.clock.now() - timedelta(days=1)
        ),
    ),
    "edit negative fee": (
        "negative_fee",
        lambda u, w: events.edit_event(u, w.clock, w.maya, w.event, fee=Fee(-500, "EUR")),
    ),
    "edit deadline after start": (
        "bad_deadline",
        lambda u, w: events.edit_event(
            u, w.clock, w.maya, w.event, signup_deadline=w.clock.now() + timedelta(days=9)
        ),
    ),
    "cancel unknown activity": (
        "event_not_found",
        lambda u, w: events.cancel_event(u, w.clock, w.maya, 999),
    ),
    "member cancels activity": (
        "not_event_manager",
        lambda u, w: events.cancel_event(u, w.clock, w.bob, w.event),
    ),
    # activities: signing up
    "sign up for unknown activity": (
        "event_not_found",
        lambda u, w: events.sign_up(u, w.clock, w.bob, 999),
    ),
    "banned signs up": ("banned", lambda u, w: events.sign_up(u, w.clock, w.carl, w.event)),
    "outsider signs up in private group": (
        "private_group",
        lambda u, w: events.sign_up(u, w.clock, w.olga, w.secret_event),
    ),
    "cancel unknown sign-up": (
        "event_not_found",
        lambda u, w: events.cancel_signup(u, w.clock, w.bob, 999),
    ),
    "cancel without sign-up": (
        "not_signed_up",
        lambda u, w: events.cancel_signup(u, w.clock, w.olga, w.event),
    ),
    "open unknown activity": ("event_not_found", lambda u, w: events.get_event(u, w.bob, 999)),
    "open activity id beyond any row": (
        "event_not_found",
        lambda u, w: events.get_event(u, w.bob, 2**31),
    ),
    "sign up for id beyond any row": (
        "event_not_found",
        lambda u, w: events.sign_up(u, w.clock, w.bob, 2**40),
    ),
    "like post id beyond any row": (
        "post_not_found",
        lambda u, w: posts.toggle_like(u, w.bob, 2**31),
    ),
    "join group by superscript digit": (
        "group_not_found",
        lambda u, w: groups.join_group(u, w.clock, w.olga, "²"),
    ),
    "roster of unknown activity": ("event_not_found", lambda u, w: events.attendees(u, w.bob, 999)),
    # people
    "bad language": ("bad_language", lambda u, w: people.set_language(u, w.bob, "klingon")),
    "empty language": ("bad_language", lambda u, w: people.set_language(u, w.bob, "")),
    "bad timezone": ("bad_timezone", lambda u, w: people.set_timezone(u, w.bob, "Mars/Base")),
    "timezone path": ("bad_timezone", lambda u, w: people.set_timezone(u, w.bob, "../etc/passwd")),
    "empty timezone": ("bad_timezone", lambda u, w: people.set_timezone(u, w.bob, "")),
    "reminders gibberish": ("bad_offsets", lambda u, w: people.set_reminders(u, w.bob, "soon")),
    "reminders too early": ("bad_offsets", lambda u, w: people.set_reminders(u, w.bob, "24h,90d")),
    "reminders zero": ("bad_offsets", lambda u, w: people.set_reminders(u, w.bob, "0m")),
    "rename empty": ("name_empty", lambda u, w: people.rename(u, w.bob, "\t")),
    "rename 10 kB": ("name_too_long", lambda u, w: people.rename(u, w.bob, HUGE)),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_bad_input_is_refused_and_changes_nothing(world: World, case: str) -> None:
    code, call = CASES[case]
    if case == "edit capacity below confirmed":  # both seats taken, then try to lower to one
        async with world.db.uow() as uow:
            await events.sign_up(uow, world.clock, world.leo, world.event)
    before = await snapshot(world.db)
    with pytest.raises(DomainError) as caught:
        async with world.db.uow() as uow:
            await call(uow, world)
    assert caught.value.code == code
    assert await snapshot(world.db) == before


def test_negative_fee_typed_is_refused_by_the_parser() -> None:
    for text in ("-5", "-0.50 EUR", "€-10"):
        with pytest.raises(DomainError) as caught:
            parse_fee(text)
        assert caught.value.code == "negative_fee", text


CAPACITY = "Capacity must be at least 1 (or none for no limit)."
NOT_MANAGER = "Only the organizer of this activity or a group admin can do that."
WHEN = "2026-12-06 09:00"

# (who, what they type or click, the message they read after "⚠️ ")
CHAT_CASES = [
    ("olga", "/newgroup " + HUGE, "The name is too long (10000 characters; at most 80)."),
    ("olga", "/newgroup Hiking", "There is already a group called “Hiking”."),
    (
        "maya",
        "/newevent hiking | Ridge | 2020-01-01 09:00 | Trailhead",
        "That time has already passed: pick a time in the future.",
    ),
    ("maya", f"/newevent hiking | Ridge | {WHEN} | Trailhead | -5", "A fee can't be negative."),
    ("maya", f"/newevent hiking | Ridge | {WHEN} | Trailhead | free | -3", CAPACITY),
    (
        "maya",
        f"/newevent hiking | Ridge | {WHEN} | Trailhead | lots",
        "I can't read the fee “lots”. Try 10, 10 EUR or free.",
    ),
    (
        "maya",
        "/newevent hiking | Ridge | some day soon | Trailhead",
        "I can't read the time “some day soon”. Use YYYY-MM-DD HH:MM, like 2026-11-28 09:00, "
        "or say it: tomorrow 19:00, next Saturday 8am, 周六 早上8点.",
    ),
    (
        "maya",
        f"/newevent hiking | Ridge | {WHEN} | 95.00, 13.40",
        "Those coordinates are off the map.",
    ),
    (
        "maya",
        f"/newevent hiking | Ridge | {WHEN} | 123.45, 10.00",
        "Those coordinates are off the map.",
    ),
    (
        "maya",
        f"/newevent hiking | {HUGE} | {WHEN} | Trailhead",
        "The title is too long (10000 characters; at most 120).",
    ),
    (
        "maya",
        f"/newevent knitting | Ridge | {WHEN} | Trailhead",
        "No group called “knitting”. Try /groups to see them.",
    ),
    (
        "bob",
        f"/newevent hiking | Ridge | {WHEN} | Trailhead",
        "Only admins of Hiking can create activities there.",
    ),
    (
        "olga",
        "/post secret Hello",
        "Secret is a private group: only its members can see and do that.",
    ),
    ("olga", "/post hiking Hello", "Join Hiking first (/join hiking)."),
    ("bob", "/post hiking " + HUGE, "The post is too long (10000 characters; at most 4000)."),
    ("bob", "/reply {post}  ", "The reply can't be empty."),
    (
        "olga",
        "/reply {secret_post} Hi",
        "Secret is a private group: only its members can see and do that.",
    ),
    ("bob", "/editevent {event} title Mine now", NOT_MANAGER),
    ("bob", "/cancelevent {event}", NOT_MANAGER),
    ("maya", "/editevent {event} capacity -2", CAPACITY),
    (
        "maya",
        "/editevent {event} deadline 2026-12-31 09:00",
        "The sign-up deadline must be in the future and before the start.",
    ),
    (
        "maya",
        "/editevent {event} place " + HUGE,
        "The place is too long (10000 characters; at most 200).",
    ),
    ("maya", "/editevent 999 title New", "No activity #999. Try /events to see upcoming ones."),
    # "none" clears a capacity or a fee; an activity is never without a title, place or time
    *(
        (
            "maya",
            f"/editevent {{event}} {field} none",
            f"Nothing changed: the {field} can't be cleared. Say the new {field} after it.",
        )
        for field in ("title", "place", "time")
    ),
    (
        "maya",
        "/editevent {event} reminders sometimes",
        "Say none for no reminders, or times before the start like 24h,1h or 30m.",
    ),
    ("bob", "/signup 999", "No activity #999. Try /events to see upcoming ones."),
    ("carl", "/join hiking", "You are banned from Hiking."),
    ("carl", "/signup {event}", "You are banned from Hiking."),
    ("olga", "/unsignup {event}", "You are not signed up for this activity."),
    ("maya", "/leave hiking", "You own Hiking: make someone else the owner before leaving."),
    ("bob", "/ban hiking leo", "Only admins of Hiking can do that."),
    ("bob", "/promote hiking bob", "Only the owner of Hiking can change roles."),
    (
        "bob",
        "/settings timezone Mars/Base",
        "“Mars/Base” is not a timezone I know. Try a name like Europe/Berlin or Asia/Shanghai.",
    ),
    ("bob", "/settings language klingon", "I speak en, zh. “klingon” is not one of them."),
    (
        "bob",
        "/settings reminders soon",
        "Say on, off, or times before the activity like 24h,1h or 30m.",
    ),
    # numbers too big to be ids, or digits that are not plain 0-9, are simply not found
    ("bob", "/event 3000000000", "No activity #3000000000. Try /events to see upcoming ones."),
    ("bob", "/signup 2147483648", "No activity #2147483648. Try /events to see upcoming ones."),
    ("bob", "/replies 3000000000", "No post #3000000000."),
    ("bob", "/group #3000000000", "No group called “#3000000000”. Try /groups to see them."),
    (
        "bob",
        "/join 99999999999999999999",
        "No group called “99999999999999999999”. Try /groups to see them.",
    ),
    ("bob", "/join ²", "No group called “²”. Try /groups to see them."),
    # however many digits: a number was given, it just names nothing
    (
        "bob",
        "/event 99999999999999999999999",
        "No activity #99999999999999999999999. Try /events to see upcoming ones.",
    ),
    (
        "maya",
        "/editevent 99999999999999999999999 title New",
        "No activity #99999999999999999999999. Try /events to see upcoming ones.",
    ),
    (
        "maya",
        "/cancelseries 99999999999999999999999",
        "No activity #99999999999999999999999. Try /events to see upcoming ones.",
    ),
    (
        "maya",
        "/checkin 99999999999999999999999",
        "No activity #99999999999999999999999. Try /events to see upcoming ones.",
    ),
    ("bob", "/replies 99999999999999999999999", "No post #99999999999999999999999."),
    ("bob", "/deletereply 99999999999999999999999", "No reply #99999999999999999999999."),
    ("bob", "/events ①", "No group called “①”. Try /groups to see them."),
    ("bob", "su:3000000000", "No activity #3000000000. Try /events to see upcoming ones."),
    ("bob", "lk:9007199254740991", "No post #9007199254740991."),
    ("bob", "gp:3000000000:1", "No group called “3000000000”. Try /groups to see them."),
    ("maya", "ap:{secret}:3000000000", "No pending request from that person."),
    ("maya", "rj:3000000000:{olga}", "No group called “#3000000000”. Try /groups to see them."),
    ("bob", "ap:{secret}:{olga}", "Only admins of Secret can do that."),
    ("maya", "ap:{secret}:{olga}", "No pending request from that person."),
    (
        "olga",
        "su:{secret_event}",
        "Secret is a private group: only its members can see and do that.",
    ),
    ("bob", "dp:{post}", "Only the author or a group admin can delete a post."),
    ("bob", "pn:{post}", "Only admins of Hiking can do that."),
]


@pytest.mark.parametrize(("who", "typed", "message"), CHAT_CASES, ids=lambda v: str(v)[:40])
async def test_chat_shows_the_error_and_changes_nothing(
    world: World, chat: Chat, who: str, typed: str, message: str
) -> None:
    typed = typed.format(**vars(world)) if "{" in typed else typed
    await chat.person_id(who)  # first contact creates the person; that is not the point here
    before = await snapshot(world.db)
    if typed.startswith("/"):
        reply = await chat.say(who, typed)
    else:
        reply = await chat.click(who, typed)
        assert reply.toast == message and reply.alert
    assert reply.text == "⚠️ " + message
    assert await snapshot(world.db) == before


async def test_chat_errors_are_in_the_persons_language(world: World, chat: Chat) -> None:
    await chat.context("olga", "zh")  # her app's language is known (kept): the refusal writes none
    before = await snapshot(world.db)
    english = "Join Hiking first (/join hiking)."
    reply = await chat.say("olga", "/post hiking 你好", locale="zh")
    chinese = Translator("zh").gettext(
        "Join {group} first (/join {slug}).", group="Hiking", slug="hiking"
    )
    assert chinese != english
    assert reply.text == "⚠️ " + chinese
    assert await snapshot(world.db) == before


async def test_no_command_breaks_on_a_number_too_big_or_too_small(chat: Chat) -> None:
    """Every command, given numbers no id can be: a clear answer, never "Something went
    wrong" (/leaveseries overflowed SQLite's integer) nor a doubled "##"."""
    huge = "99999999999999999999999"
    await chat.say("maya", "/newgroup Hiking")
    await chat.say("maya", "/settings discoverable on")
    await chat.say("maya", "/newevent hiking | Ridge | 2026-11-28 09:00 | Trailhead | free | 3")
    broken = []
    for name in sorted(set(COMMANDS) - {"quit"}):
        for args in (huge, f"#{huge}", f"hiking {huge}", f"1 {huge}", "-1", "0", "#999"):
            reply = await chat.say("maya", f"/{name} {args}")
            if "went wrong" in reply.text or "##" in reply.text:
                broken.append((name, args, reply.text[:80]))
    assert broken == []
