"""Property test: any sequence of sign-ups, cancellations and capacity changes keeps the roster
fair, checked step by step against a small pure-Python model of the waitlist.

Each example runs on its own fresh SQLite database (a copy of one migrated template), driven
through the real services, one unit of work per action as in production.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import select

from core.clock import FrozenClock
from core.db import Database
from core.errors import DomainError
from core.models import Event, Registration
from core.services import events, groups, people, tallies
from core.services.events import EventDraft

PEOPLE = ("ann", "bob", "cat", "dan", "eve")
START = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@dataclass
class Model:
    """The reference: the roster as a list in arrival order, and the capacity."""

    capacity: int | None
    line: list[tuple[str, str]] = field(default_factory=list)  # (person, status), by seq

    def status(self, person: str) -> str | None:
        return next((s for p, s in self.line if p == person), None)

    def confirmed(self) -> int:
        return sum(1 for _, s in self.line if s == "confirmed")

    def promote(self) -> list[str]:
        promoted = []
        for i, (person, status) in enumerate(self.line):
            if status == "waitlisted" and (
                self.capacity is None or self.confirmed() < self.capacity
            ):
                self.line[i] = (person, "confirmed")
                promoted.append(person)
        return promoted

    def sign_up(self, person: str) -> tuple[str, int | None]:
        current = self.status(person)
        if current is not None:
            return f"already_{current}", self.position(person)
        has_seat = self.capacity is None or self.confirmed() < self.capacity
        status = "confirmed" if has_seat else "waitlisted"
        self.line.append((person, status))
        return status, self.position(person)

    def cancel(self, person: str) -> list[str] | None:
        """None when the person had no place (the service refuses with not_signed_up)."""
        current = self.status(person)
        if current is None:
            return None
        self.line = [(p, s) for p, s in self.line if p != person]
        return self.promote() if current == "confirmed" else []

    def set_capacity(self, capacity: int | None) -> list[str] | None:
        """None when refused: capacity below the people already confirmed."""
        if capacity is not None and capacity < self.confirmed():
            return None
        self.capacity = capacity
        return self.promote()

    def position(self, person: str) -> int | None:
        waiting = [p for p, s in self.line if s == "waitlisted"]
        return waiting.index(person) + 1 if person in waiting else None


_EXAMPLES = itertools.count()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each example starts from a copy of it."""
    path = tmp_path_factory.mktemp("waitlist") / "template.db"

    async def migrate() -> None:
        database = Database(f"sqlite+aiosqlite:///{path}")
        await database.migrate()
        await database.dispose()

    asyncio.run(migrate())
    return path


def _fresh_copy(template: Path) -> Path:
    target = template.parent / f"example{next(_EXAMPLES)}.db"
    shutil.copyfile(template, target)
    return target


capacities = st.one_of(st.none(), st.integers(min_value=1, max_value=4))
steps = st.lists(
    st.one_of(
        st.tuples(st.just("sign_up"), st.sampled_from(PEOPLE)),
        st.tuples(st.just("cancel"), st.sampled_from(PEOPLE)),
        st.tuples(st.just("capacity"), capacities),
    ),
    min_size=1,
    max_size=20,
)


async def _run(path: Path, initial: int | None, actions: list[tuple[str, object]]) -> None:
    db = Database(f"sqlite+aiosqlite:///{path}")
    clock = FrozenClock(START)
    try:
        ids: dict[str, int] = {}
        for name in ("organizer", *PEOPLE):
            async with db.uow() as uow:
                actor = await people.resolve_actor(
                    uow, clock, platform="test", external_id=name, display_name=name
                )
            ids[name] = actor.person_id
        names = {pid: name for name, pid in ids.items()}
        async with db.uow() as uow:
            await groups.create_group(uow, clock, ids["organizer"], name="Hiking")
        async with db.uow() as uow:
            view = await events.create_event(
                uow,
                clock,
                ids["organizer"],
                "hiking",
                EventDraft(
                    title="Ridge",
                    starts_at=START + timedelta(days=3),
                    place="Trailhead",
                    capacity=initial,
                ),
            )
        event_id: int = view.event.id  # type: ignore[assignment]
        model = Model(initial)

        for step, (kind, arg) in enumerate(actions):
            where = f"step {step}: {kind} {arg!r}"
            if kind == "sign_up":
                person = str(arg)
                expected = model.sign_up(person)
                async with db.uow() as uow:
                    result = await events.sign_up(uow, clock, ids[person], event_id)
                assert (result.status, result.position) == expected, where
            elif kind == "cancel":
                person = str(arg)
                expected_promoted = model.cancel(person)
                try:
                    async with db.uow() as uow:
                        change = await events.cancel_signup(uow, clock, ids[person], event_id)
                except DomainError as error:
                    assert expected_promoted is None, where
                    assert error.code == "not_signed_up", where
                else:
                    assert expected_promoted is not None, where
                    assert [names[p] for p in change.promoted] == expected_promoted, where
            else:
                before = await _snapshot(db, event_id)
                expected_promoted = model.set_capacity(arg)  # type: ignore[arg-type]
                try:
                    async with db.uow() as uow:
                        edit = await events.edit_event(
                            uow, clock, ids["organizer"], event_id, capacity=arg
                        )
                except DomainError as error:
                    assert expected_promoted is None, where
                    assert error.code == "capacity_below_confirmed", where
                    assert await _snapshot(db, event_id) == before, where  # nothing changed
                else:
                    assert expected_promoted is not None, where
                    assert [names[p] for p in edit.promoted] == expected_promoted, where
            clock.advance(timedelta(minutes=7))  # so the stored heat fades between steps
            await _check(db, event_id, model, names, ids, where, clock)
    finally:
        await db.dispose()


async def _snapshot(db: Database, event_id: int):
    async with db.uow(readonly=True) as uow:
        event = await uow.session.get(Event, event_id)
        rows = (
            await uow.session.exec(select(Registration).where(Registration.event_id == event_id))
        ).all()
        return event.capacity, sorted((r.person_id, r.status, r.seq) for r in rows)  # type: ignore[union-attr]


async def _check(
    db: Database,
    event_id: int,
    model: Model,
    names: dict[int, str],
    ids: dict[str, int],
    where: str,
    clock: FrozenClock,
) -> None:
    async with db.uow(readonly=True) as uow:
        event = await uow.session.get(Event, event_id)
        rows = list(
            (
                await uow.session.exec(
                    select(Registration)
                    .where(Registration.event_id == event_id)
                    .order_by(Registration.seq)  # type: ignore[arg-type]
                )
            ).all()
        )
        roster = await events.attendees(uow, ids["organizer"], event_id)
        views = {name: await events.get_event(uow, ids[name], event_id) for name in PEOPLE}
    assert event is not None
    capacity = event.capacity
    assert capacity == model.capacity, where
    confirmed = [r for r in rows if r.status == "confirmed"]
    waiting = [r for r in rows if r.status == "waitlisted"]
    # each person has at most one row, and the seqs are distinct
    assert len({r.person_id for r in rows}) == len(rows), where
    assert len({r.seq for r in rows}) == len(rows), where
    # never overbooked; nobody waits while a seat is free
    if capacity is not None:
        assert len(confirmed) <= capacity, where
    if waiting:
        assert capacity is not None and len(confirmed) == capacity, where
    # the waitlist is in sign-up order, and everyone is told their true place in it
    assert [names[r.person_id] for r in waiting] == [
        p for p, s in model.line if s == "waitlisted"
    ], where
    assert roster.waitlisted == [names[r.person_id] for r in waiting], where
    assert roster.confirmed == [names[r.person_id] for r in confirmed], where
    active = [(names[r.person_id], r.status) for r in rows if r.status != "cancelled"]
    assert active == model.line, where
    # the stored counts say what the rows say
    assert (event.going, event.waiting) == (len(confirmed), len(waiting)), where
    now = clock.now()
    expected_heat = sum(tallies.faded(1.0, r.updated_at, now) for r in confirmed)
    assert tallies.heat(event, now) == pytest.approx(expected_heat, abs=1e-9), where
    for name, view in views.items():
        assert view.viewer_status == model.status(name), where
        assert view.viewer_position == model.position(name), where
        assert (view.confirmed, view.waitlisted) == (len(confirmed), len(waiting)), where


@settings(max_examples=40, deadline=None)
@given(initial=capacities, actions=steps)
def test_roster_stays_fair_under_any_sequence(
    template: Path, initial: int | None, actions: list[tuple[str, object]]
) -> None:
    asyncio.run(_run(_fresh_copy(template), initial, actions))


def test_model_sanity() -> None:
    """The reference model itself: a freed seat goes to the first person waiting."""
    model = Model(1)
    assert model.sign_up("ann") == ("confirmed", None)
    assert model.sign_up("bob") == ("waitlisted", 1)
    assert model.sign_up("cat") == ("waitlisted", 2)
    assert model.cancel("ann") == ["bob"]
    assert model.position("cat") == 1
    assert model.set_capacity(None) == ["cat"]
    assert model.set_capacity(1) is None
