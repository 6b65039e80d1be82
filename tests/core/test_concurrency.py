"""Many people pressing "Sign up" at once: no overbooking, no lost places, arrival order kept.

Every sign-up and cancellation runs in its own unit of work, all at the same time, against a
real SQLite file and a real PostgreSQL database (the `db` fixture runs each test on both).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from core.clock import FrozenClock
from core.db import Database
from core.errors import PermissionDenied
from core.models import Event, MembershipStatus, Registration
from core.services import events, groups, people, posts
from core.services.events import EventDraft

SEATS = 50
PEOPLE = 200


async def _person(db: Database, clock: FrozenClock, name: str) -> int:
    async with db.uow() as uow:
        actor = await people.resolve_actor(
            uow, clock, platform="test", external_id=name, display_name=name
        )
    return actor.person_id


async def _activity(db: Database, clock: FrozenClock, capacity: int | None) -> tuple[int, int]:
    """An organizer, a public group and one activity a week ahead; returns (organizer, event)."""
    organizer = await _person(db, clock, "organizer")
    async with db.uow() as uow:
        await groups.create_group(uow, clock, organizer, name="Hiking")
    async with db.uow() as uow:
        view = await events.create_event(
            uow,
            clock,
            organizer,
            "hiking",
            EventDraft(
                title="Ridge walk",
                starts_at=clock.now() + timedelta(days=7),
                place="Trailhead",
                capacity=capacity,
            ),
        )
    return organizer, view.event.id  # type: ignore[return-value]


async def _rows(db: Database, event_id: int) -> list[Registration]:
    async with db.uow(readonly=True) as uow:
        result = await uow.session.exec(
            select(Registration).where(Registration.event_id == event_id).order_by(Registration.seq)  # type: ignore[arg-type]
        )
        return list(result.all())


async def _sign_up(db: Database, clock: FrozenClock, person_id: int, event_id: int):
    async with db.uow() as uow:
        return await events.sign_up(uow, clock, person_id, event_id)


async def _cancel(db: Database, clock: FrozenClock, person_id: int, event_id: int):
    async with db.uow() as uow:
        return await events.cancel_signup(uow, clock, person_id, event_id)


def _no_errors(results: list) -> None:
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == [], f"{len(errors)} concurrent calls failed, first: {errors[:1]!r}"


async def test_200_people_rush_50_seats(db: Database, clock: FrozenClock) -> None:
    _organizer, event_id = await _activity(db, clock, SEATS)
    ids = [await _person(db, clock, f"p{n}") for n in range(PEOPLE)]

    results = await asyncio.gather(
        *(_sign_up(db, clock, pid, event_id) for pid in ids), return_exceptions=True
    )

    _no_errors(results)
    assert Counter(r.status for r in results) == {"confirmed": 50, "waitlisted": 150}
    rows = await _rows(db, event_id)
    assert len(rows) == PEOPLE
    assert sorted(r.person_id for r in rows) == sorted(ids)  # one row each, nobody lost
    assert [r.seq for r in rows] == list(range(1, PEOPLE + 1))  # commit order, no gaps
    assert [r.status for r in rows] == ["confirmed"] * 50 + ["waitlisted"] * 150
    # what each person was told matches the row they got
    told = {pid: r for pid, r in zip(ids, results, strict=True)}
    for row in rows:
        assert told[row.person_id].status == row.status
        if row.status == "waitlisted":
            assert told[row.person_id].position == row.seq - SEATS

    async with db.uow(readonly=True) as uow:
        view = await events.get_event(uow, ids[0], event_id)
    assert (view.confirmed, view.waitlisted, view.is_full) == (50, 150, True)

    # 10 confirmed people cancel at once: exactly the next 10 in line get their seats
    leaving = [r.person_id for r in rows[:10]]
    next_in_line = [r.person_id for r in rows[SEATS : SEATS + 10]]
    changes = await asyncio.gather(
        *(_cancel(db, clock, pid, event_id) for pid in leaving), return_exceptions=True
    )

    _no_errors(changes)
    promoted = [pid for change in changes for pid in change.promoted]
    assert sorted(promoted) == sorted(next_in_line)
    assert all(len(change.promoted) == 1 for change in changes)
    after = {r.person_id: r.status for r in await _rows(db, event_id)}
    assert Counter(after.values()) == {"confirmed": 50, "waitlisted": 140, "cancelled": 10}
    assert all(after[pid] == "cancelled" for pid in leaving)
    assert all(after[pid] == "confirmed" for pid in next_in_line)
    still_waiting = [r for r in await _rows(db, event_id) if r.status == "waitlisted"]
    assert [r.person_id for r in still_waiting] == [r.person_id for r in rows[SEATS + 10 :]]


async def test_one_person_pressing_sign_up_five_times_at_once_gets_one_place(
    db: Database, clock: FrozenClock
) -> None:
    _organizer, event_id = await _activity(db, clock, 3)
    maya = await _person(db, clock, "maya")

    results = await asyncio.gather(
        *(_sign_up(db, clock, maya, event_id) for _ in range(5)), return_exceptions=True
    )

    _no_errors(results)
    assert sorted(r.status for r in results) == ["already_confirmed"] * 4 + ["confirmed"]
    rows = await _rows(db, event_id)
    assert [(r.person_id, r.status, r.seq) for r in rows] == [(maya, "confirmed", 1)]


async def test_waitlisted_person_pressing_five_times_keeps_one_place_in_line(
    db: Database, clock: FrozenClock
) -> None:
    _organizer, event_id = await _activity(db, clock, 1)
    first = await _person(db, clock, "first")
    await _sign_up(db, clock, first, event_id)
    bob = await _person(db, clock, "bob")

    results = await asyncio.gather(
        *(_sign_up(db, clock, bob, event_id) for _ in range(5)), return_exceptions=True
    )

    _no_errors(results)
    assert sorted(r.status for r in results) == ["already_waitlisted"] * 4 + ["waitlisted"]
    assert {r.position for r in results} == {1}
    rows = await _rows(db, event_id)
    assert [(r.person_id, r.status) for r in rows] == [(first, "confirmed"), (bob, "waitlisted")]


async def test_sign_ups_and_cancellations_racing_never_overbook(
    db: Database, clock: FrozenClock
) -> None:
    _organizer, event_id = await _activity(db, clock, 5)
    early = [await _person(db, clock, f"early{n}") for n in range(8)]
    for pid in early:
        await _sign_up(db, clock, pid, event_id)
    late = [await _person(db, clock, f"late{n}") for n in range(20)]

    results = await asyncio.gather(
        *(_cancel(db, clock, pid, event_id) for pid in early[:5]),
        *(_sign_up(db, clock, pid, event_id) for pid in late),
        return_exceptions=True,
    )

    _no_errors(results)
    rows = await _rows(db, event_id)
    active = [r for r in rows if r.status != "cancelled"]
    confirmed = [r for r in active if r.status == "confirmed"]
    waiting = [r for r in active if r.status == "waitlisted"]
    assert len(confirmed) == 5  # full, never more
    assert len(active) == 3 + 20
    # seats go strictly by arrival: nobody confirmed arrived after someone still waiting
    assert max(r.seq for r in confirmed) < min(r.seq for r in waiting)
    assert len({r.person_id for r in rows}) == len(rows)
    async with db.uow(readonly=True) as uow:  # the stored counts lost no update either
        event = await uow.session.get(Event, event_id)
    assert (event.going, event.waiting) == (5, 18)  # type: ignore[union-attr]


async def test_double_tapped_join_button(db: Database, clock: FrozenClock) -> None:
    await _activity(db, clock, None)
    bob = await _person(db, clock, "bob")

    async def join():
        async with db.uow() as uow:
            return await groups.join_group(uow, clock, bob, "hiking")

    results = await asyncio.gather(*(join() for _ in range(8)), return_exceptions=True)

    _no_errors(results)
    assert sorted(r.status for r in results) == ["already_member"] * 7 + ["joined"]
    async with db.uow(readonly=True) as uow:
        summary = await groups.group_summary(uow, bob, "hiking")
    assert (summary.member_count, summary.is_member) == (2, True)


async def test_double_tapped_like_button(db: Database, clock: FrozenClock) -> None:
    organizer, _event = await _activity(db, clock, None)
    bob = await _person(db, clock, "bob")
    async with db.uow() as uow:
        await groups.join_group(uow, clock, bob, "hiking")
    async with db.uow() as uow:
        post = (await posts.create_post(uow, clock, organizer, "hiking", "Trail is dry")).post

    async def tap():
        async with db.uow() as uow:
            return await posts.toggle_like(uow, bob, post.id)  # type: ignore[arg-type]

    results = await asyncio.gather(*(tap() for _ in range(3)), return_exceptions=True)

    _no_errors(results)  # each tap toggles in turn: like, unlike, like
    assert sorted(results) == [(False, 0), (True, 1), (True, 1)]
    async with db.uow(readonly=True) as uow:
        view, _ = await posts.get_post(uow, bob, post.id)  # type: ignore[arg-type]
    assert (view.likes, view.liked_by_viewer) == (1, True)


async def test_a_sign_up_waiting_behind_a_ban_sees_the_ban(
    db: Database, clock: FrozenClock
) -> None:
    """A ban changes the membership and then locks the group's activities to free the banned
    person's seats; a sign-up by that person waiting for the activity's lock meanwhile must be
    refused once it gets the lock. (On PostgreSQL a statement that waits for a row lock sees
    the rows joined to that row as they were when it started: the membership is read after
    the lock, not joined to it.)"""
    _, event_id = await _activity(db, clock, capacity=10)
    bob = await _person(db, clock, "bob")
    async with db.uow() as uow:
        await groups.join_group(uow, clock, bob, "hiking")
    async with db.uow() as ban:
        [group_id] = (
            await ban.session.exec(select(Event.group_id).where(Event.id == event_id))
        ).all()
        membership = await groups.membership_of(ban, group_id, bob)
        membership.status = MembershipStatus.BANNED  # type: ignore[union-attr]
        ban.session.add(membership)
        await ban.session.flush()
        locked = select(Event).where(Event.id == event_id).with_for_update()
        await ban.session.exec(locked)

        async def sign_up() -> None:
            async with db.uow() as uow:
                await events.sign_up(uow, clock, bob, event_id)

        attempt = asyncio.create_task(sign_up())
        await _until_waiting(db)
        await ban.commit()
    with pytest.raises(PermissionDenied) as refused:
        await attempt
    assert refused.value.code == "banned"
    assert [r for r in await _rows(db, event_id) if r.person_id == bob] == []


async def _until_waiting(db: Database) -> None:
    """Until another unit of work waits for the lock this one holds (a row lock on PostgreSQL;
    on SQLite, this process's queue of writers)."""
    async with asyncio.timeout(30):
        while True:
            await asyncio.sleep(0.05)
            if db.is_sqlite:
                if db._write_queue._waiters:  # type: ignore[attr-defined]
                    return
                continue
            async with db.uow(readonly=True) as uow:
                waiting = await uow.session.exec(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        " AND datname = current_database()"
                    )
                )
                if waiting.one()[0]:
                    return
