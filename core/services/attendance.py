"""Attendance: after an activity starts its organiser checks people in; no-shows are counted
per person and group for the group's admins; the roster is read for /export.

Check-in opens CHECK_IN_BEFORE the start and stays open CHECK_IN_AFTER it. Opening it marks
everyone with a seat as not (yet) there; each tap on a person marks them present, a second tap
undoes it. Whoever is still "not there" when the organiser stops counts as a no-show (shown in
`/noshows`), so an activity nobody checked in records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import func, select

from core import permissions
from core.clock import Clock
from core.errors import conflict, not_found
from core.i18n import N_
from core.models import Event, EventStatus, Identity, Person, Registration, RegistrationStatus
from core.services import events
from core.services.groups import find_group, membership_of
from core.uow import UnitOfWork

CHECK_IN_BEFORE = timedelta(hours=1)
CHECK_IN_AFTER = timedelta(days=3)


@dataclass(frozen=True)
class Present:
    person_id: int
    name: str
    guests: int
    attended: bool


@dataclass(frozen=True)
class CheckIn:
    event: Event
    people: list[Present]


async def open_check_in(uow: UnitOfWork, clock: Clock, actor_id: int, event_id: int) -> CheckIn:
    event = await _opened(uow, clock, actor_id, event_id)
    await uow.commit()
    return await check_in_list(uow, event)


async def _opened(uow: UnitOfWork, clock: Clock, actor_id: int, event_id: int) -> Event:
    """The activity, its check-in open: everyone with a seat not yet marked is "not there".
    The caller commits."""
    event = await events.managed_event(uow, actor_id, event_id)
    now = clock.now()
    if event.status == EventStatus.CANCELLED:
        raise conflict("event_cancelled", N_("This activity was cancelled."))
    if now < event.starts_at - CHECK_IN_BEFORE:
        raise conflict("check_in_early", N_("Check-in opens an hour before the start."))
    if now > event.starts_at + CHECK_IN_AFTER:
        raise conflict("check_in_closed", N_("Check-in closed three days after the start."))
    rows = (
        await uow.session.exec(
            select(Registration).where(
                Registration.event_id == event_id,
                Registration.status == RegistrationStatus.CONFIRMED,
                Registration.attended.is_(None),  # type: ignore[union-attr]
            )
        )
    ).all()
    for registration in rows:
        registration.attended = False
        uow.session.add(registration)
    return event


async def check_in_list(uow: UnitOfWork, event: Event) -> CheckIn:
    rows = await uow.session.exec(
        select(Person.id, Person.display_name, Registration.guests, Registration.attended)
        .join(Registration, Registration.person_id == Person.id)  # type: ignore[arg-type]
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
        .order_by(Registration.seq)
    )
    people = [Present(pid, name, guests, bool(seen)) for pid, name, guests, seen in rows.all()]
    return CheckIn(event, people)


async def toggle(
    uow: UnitOfWork, clock: Clock, actor_id: int, event_id: int, person_id: int
) -> CheckIn:
    """Present <-> not there, for someone with a seat; opens check-in if it was not yet."""
    event = await _opened(uow, clock, actor_id, event_id)
    await uow.session.flush()
    registration = (
        await uow.session.exec(
            select(Registration).where(
                Registration.event_id == event_id,
                Registration.person_id == person_id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
        )
    ).first()
    if registration is None:
        raise not_found("person", name=f"#{person_id}")
    registration.attended = not registration.attended
    uow.session.add(registration)
    await uow.commit()
    return await check_in_list(uow, event)


async def no_shows(
    uow: UnitOfWork, clock: Clock, actor_id: int, ref: str
) -> list[tuple[str, int, int]]:
    """Per person in the group's checked-in activities: (name, no-shows, times checked in),
    most no-shows first. Admins only. Only activities that have started and were not
    cancelled count (check-in opens an hour before: nobody is missing yet), and only seats
    still held: someone who cancelled after check-in opened did what was asked."""
    group = await find_group(uow, ref)
    permissions.require_admin(group, await membership_of(uow, group.id, actor_id))  # type: ignore[arg-type]
    missed = func.sum(sa.case((Registration.attended.is_(False), 1), else_=0))  # type: ignore[union-attr]
    rows = await uow.session.exec(
        select(Person.display_name, missed, func.count())
        .join(Registration, Registration.person_id == Person.id)  # type: ignore[arg-type]
        .join(Event, Event.id == Registration.event_id)  # type: ignore[arg-type]
        .where(
            Event.group_id == group.id,
            Event.status != EventStatus.CANCELLED,
            Event.starts_at <= clock.now(),
            Registration.status == RegistrationStatus.CONFIRMED,
            Registration.attended.is_not(None),  # type: ignore[union-attr]
        )
        .group_by(Person.id, Person.display_name)
        .order_by(missed.desc(), Person.display_name)
    )
    return [(name, int(count or 0), int(total)) for name, count, total in rows.all()]


@dataclass(frozen=True)
class RosterRow:
    """One person on an activity's roster, as /export writes it."""

    name: str
    accounts: str  # "telegram:@ann discord"
    status: str
    guests: int
    signed_up_at: datetime  # UTC
    attended: bool | None


async def roster(uow: UnitOfWork, actor_id: int, event_id: int) -> tuple[Event, list[RosterRow]]:
    """The roster (organisers and admins): one row per person on it, in sign-up order."""
    event = await events.managed_event(uow, actor_id, event_id)
    rows = (
        await uow.session.exec(
            select(Person.id, Person.display_name, Registration)
            .join(Registration, Registration.person_id == Person.id)  # type: ignore[arg-type]
            .where(
                Registration.event_id == event_id,
                Registration.status != RegistrationStatus.CANCELLED,
            )
            .order_by(Registration.seq)
        )
    ).all()
    accounts: dict[int, list[str]] = {}
    if rows:
        found = await uow.session.exec(
            select(Identity.person_id, Identity.platform, Identity.username).where(
                Identity.person_id.in_([pid for pid, _, _ in rows])  # type: ignore[attr-defined]
            )
        )
        for pid, platform, username in found.all():
            accounts.setdefault(pid, []).append(f"{platform}:@{username}" if username else platform)
    return event, [
        RosterRow(
            name=name,
            accounts=" ".join(sorted(accounts.get(pid, []))),
            status=registration.status,
            guests=registration.guests,
            signed_up_at=registration.created_at,
            attended=registration.attended,
        )
        for pid, name, registration in rows
    ]
