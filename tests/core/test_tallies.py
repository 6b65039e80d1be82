"""Stored counts (core.services.tallies): a group's members, an activity's seats, waitlist and
sign-up heat stay equal to what the rows say through every change, and `recount` rebuilds them."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import func, select

from core.clock import FrozenClock
from core.db import Database
from core.models import Event, Group, Membership, MembershipStatus, Registration
from core.services import events, groups, people, tallies
from core.services.events import EventDraft

DAY = timedelta(days=1)


async def _person(db: Database, clock: FrozenClock, name: str) -> int:
    async with db.uow() as uow:
        actor = await people.resolve_actor(
            uow, clock, platform="test", external_id=name, display_name=name
        )
    return actor.person_id


async def _group(db: Database, clock: FrozenClock, owner: int, name: str, private=False) -> int:
    async with db.uow() as uow:
        group = await groups.create_group(uow, clock, owner, name=name, private=private)
    return group.id  # type: ignore[return-value]


async def _members(db: Database, group_id: int) -> tuple[int, int]:
    """(stored count, counted rows)."""
    async with db.uow(readonly=True) as uow:
        group = await uow.session.get(Group, group_id)
        rows = (
            await uow.session.exec(
                select(func.count()).where(
                    Membership.group_id == group_id, Membership.status == MembershipStatus.ACTIVE
                )
            )
        ).one()
    return group.members, rows  # type: ignore[union-attr]


async def _event(db: Database, clock: FrozenClock, owner: int, ref: str, capacity=None) -> int:
    async with db.uow() as uow:
        view = await events.create_event(
            uow,
            clock,
            owner,
            ref,
            EventDraft(
                title="Ridge", starts_at=clock.now() + 7 * DAY, place="Trail", capacity=capacity
            ),
        )
    return view.event.id  # type: ignore[return-value]


async def _stored(db: Database, event_id: int, clock: FrozenClock) -> tuple[int, int, float]:
    async with db.uow(readonly=True) as uow:
        event = await uow.session.get(Event, event_id)
    return event.going, event.waiting, tallies.heat(event, clock.now())  # type: ignore[union-attr,arg-type]


async def test_member_count_follows_every_change(db: Database, clock: FrozenClock) -> None:
    maya, bob, ann = [await _person(db, clock, n) for n in ("maya", "bob", "ann")]
    hiking = await _group(db, clock, maya, "Hiking")
    secret = await _group(db, clock, maya, "Secret", private=True)
    assert await _members(db, hiking) == (1, 1)  # the owner

    steps = [
        (lambda uow: groups.join_group(uow, clock, bob, "hiking"), hiking, 2),
        (lambda uow: groups.join_group(uow, clock, bob, "hiking"), hiking, 2),  # already in
        (lambda uow: groups.join_group(uow, clock, ann, "hiking"), hiking, 3),
        (lambda uow: events.leave_and_release(uow, clock, ann, "hiking"), hiking, 2),
        (lambda uow: groups.join_group(uow, clock, ann, "hiking"), hiking, 3),  # back again
        (lambda uow: events.ban_and_release(uow, clock, maya, "hiking", "ann"), hiking, 2),
        (lambda uow: groups.join_group(uow, clock, bob, "secret"), secret, 1),  # a request
        (lambda uow: groups.decide_request(uow, clock, maya, secret, bob, approve=True), secret, 2),
        (lambda uow: groups.join_group(uow, clock, ann, "secret"), secret, 2),
        (
            lambda uow: groups.decide_request(uow, clock, maya, secret, ann, approve=False),
            secret,
            2,
        ),
        (lambda uow: events.leave_and_release(uow, clock, bob, "secret"), secret, 1),
    ]
    for number, (step, group_id, expected) in enumerate(steps):
        async with db.uow() as uow:
            await step(uow)
        assert await _members(db, group_id) == (expected, expected), f"step {number}"

    async with db.uow(readonly=True) as uow:  # what /groups shows, biggest first
        listed = await groups.search_groups(uow, ann)
    assert [(s.group.slug, s.member_count) for s in listed] == [("hiking", 2), ("secret", 1)]


async def test_heat_is_sign_ups_fading_by_half_a_day(db: Database, clock: FrozenClock) -> None:
    maya, bob, ann = [await _person(db, clock, n) for n in ("maya", "bob", "ann")]
    await _group(db, clock, maya, "Hiking")
    event_id = await _event(db, clock, maya, "hiking", capacity=1)
    assert await _stored(db, event_id, clock) == (0, 0, 0.0)

    async with db.uow() as uow:
        await events.sign_up(uow, clock, bob, event_id)
    assert await _stored(db, event_id, clock) == (1, 0, 1.0)
    clock.advance(DAY)
    assert await _stored(db, event_id, clock) == (1, 0, pytest.approx(0.5))
    async with db.uow() as uow:
        await events.sign_up(uow, clock, ann, event_id)  # full: the waitlist, no heat
    assert await _stored(db, event_id, clock) == (1, 1, pytest.approx(0.5))
    clock.advance(DAY)
    async with db.uow() as uow:  # Bob's sign-up weighs 1/4 now and is taken back; Ann moves up
        await events.cancel_signup(uow, clock, bob, event_id)
    assert await _stored(db, event_id, clock) == (1, 0, pytest.approx(1.0))
    clock.advance(2 * DAY)
    assert await _stored(db, event_id, clock) == (1, 0, pytest.approx(0.25))


async def test_banned_persons_seat_is_freed_in_the_counts(db: Database, clock: FrozenClock) -> None:
    maya, bob, ann = [await _person(db, clock, n) for n in ("maya", "bob", "ann")]
    await _group(db, clock, maya, "Hiking")
    for who in (bob, ann):
        async with db.uow() as uow:
            await groups.join_group(uow, clock, who, "hiking")
    event_id = await _event(db, clock, maya, "hiking", capacity=1)
    for who in (bob, ann):
        async with db.uow() as uow:
            await events.sign_up(uow, clock, who, event_id)
    assert (await _stored(db, event_id, clock))[:2] == (1, 1)
    async with db.uow() as uow:
        await events.ban_and_release(uow, clock, maya, "hiking", "bob")
    assert (await _stored(db, event_id, clock))[:2] == (1, 0)  # Ann has the seat


async def test_recount_rebuilds_what_the_changes_kept(db: Database, clock: FrozenClock) -> None:
    maya = await _person(db, clock, "maya")
    hiking = await _group(db, clock, maya, "Hiking")
    runners = [await _person(db, clock, f"p{n}") for n in range(6)]
    event_id = await _event(db, clock, maya, "hiking", capacity=3)
    for n, who in enumerate(runners):
        async with db.uow() as uow:
            await groups.join_group(uow, clock, who, "hiking")
        async with db.uow() as uow:
            await events.sign_up(uow, clock, who, event_id)
        clock.advance(timedelta(hours=5 * n))
    async with db.uow() as uow:
        await events.cancel_signup(uow, clock, runners[1], event_id)
    kept = await _stored(db, event_id, clock), await _members(db, hiking)

    async with db.engine.begin() as conn:  # forget them, then rebuild them from the rows
        await conn.execute(sa.update(Event).values(going=0, waiting=0, heat=0, heat_at=None))
        await conn.execute(sa.update(Group).values(members=0))
        await conn.run_sync(tallies.recount, clock.now())
    going, waiting, heat = await _stored(db, event_id, clock)
    assert (going, waiting) == kept[0][:2] == (3, 2)
    assert heat == pytest.approx(kept[0][2])
    assert await _members(db, hiking) == kept[1] == (7, 7)
    async with db.uow(readonly=True) as uow:
        confirmed = (
            await uow.session.exec(
                select(Registration.updated_at).where(
                    Registration.event_id == event_id, Registration.status == "confirmed"
                )
            )
        ).all()
    assert heat == pytest.approx(sum(tallies.faded(1.0, at, clock.now()) for at in confirmed))
