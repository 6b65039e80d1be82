"""Reminders: rows written with the activity change that causes them, claimed when due,
recipients computed at firing time, each delivery recorded before it is sent.

Offsets: an activity carries its own list (the configured default, copied at creation, or what
its organizer set); a person may replace it with their own list or turn reminders off. Only
people with a confirmed seat are reminded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from core.durations import format_duration, parse_offsets
from core.i18n import N_
from core.models import (
    Delivery,
    DeliveryStatus,
    Event,
    EventStatus,
    Identity,
    Person,
    Registration,
    RegistrationStatus,
    Reminder,
    ReminderStatus,
)
from core.services import reach
from core.uow import UnitOfWork

DEFAULT_OFFSETS = (timedelta(hours=24), timedelta(hours=1))
OPEN = (ReminderStatus.PENDING, ReminderStatus.CLAIMED)
# a delivery's reasons of ours, stored in English ("; " between reasons) and translated as the
# log is read; a platform's own words beside them stay as they came
NO_ACCOUNT = N_("no account the bot can reach")
MENTIONED = N_("mentioned in the group's chat")
OUR_REASONS = frozenset({NO_ACCOUNT, MENTIONED})


def format_offsets(offsets: list[timedelta] | tuple[timedelta, ...]) -> str:
    return ",".join(format_duration(o) for o in sorted(set(offsets), reverse=True))


def event_offsets(event: Event) -> list[timedelta]:
    if event.reminder_offsets is None:
        return list(DEFAULT_OFFSETS)
    return parse_offsets(event.reminder_offsets)


def wants(person: Person, event: Event, offset: timedelta) -> bool:
    """Whether this person wants this reminder of this activity."""
    if not person.reminders_enabled:
        return False
    mine = parse_offsets(person.reminder_offsets) if person.reminder_offsets else None
    return offset in (mine if mine is not None else event_offsets(event))


async def _confirmed_people(uow: UnitOfWork, event_id: int) -> list[tuple[Person, bool]]:
    """Who is reminded: everyone with a seat, and the maybes who asked to be (True: a maybe)."""
    rows = await uow.session.exec(
        select(Person, Registration.status == RegistrationStatus.MAYBE)
        .join(Registration, Registration.person_id == Person.id)  # type: ignore[arg-type]
        .where(
            Registration.event_id == event_id,
            sa.or_(
                Registration.status == RegistrationStatus.CONFIRMED,
                sa.and_(
                    Registration.status == RegistrationStatus.MAYBE,
                    Registration.remind == sa.true(),
                ),
            ),
        )
        .order_by(Registration.seq)
    )
    return list(rows.all())


async def schedule_event(uow: UnitOfWork, event: Event, now: datetime) -> None:
    """Bring the activity's reminder rows in line with it. Call inside the transaction that
    changed the activity (or its roster), before commit; idempotent.

    Offsets are the activity's own plus any personal ones of people with a seat; a time that
    has already passed when scheduling gets no row (people signing up 30 minutes before the
    start need no "in 1 hour" reminder).
    """
    rows = list(
        (
            await uow.session.exec(
                select(Reminder).where(Reminder.event_id == event.id, Reminder.status.in_(OPEN))  # type: ignore[attr-defined]
            )
        ).all()
    )
    if event.status == EventStatus.CANCELLED:
        for row in rows:
            row.status = ReminderStatus.CANCELLED
            uow.session.add(row)
        uow.changes.reminders = True
        return
    offsets = set(event_offsets(event))
    for person, _ in await _confirmed_people(uow, event.id):  # type: ignore[arg-type]
        if person.reminders_enabled and person.reminder_offsets:
            offsets.update(parse_offsets(person.reminder_offsets))
    wanted = {
        (int(o.total_seconds()), event.starts_at - o) for o in offsets if event.starts_at - o > now
    }
    for row in rows:
        if (row.offset_seconds, row.due_at) not in wanted and row.status == ReminderStatus.PENDING:
            row.status = ReminderStatus.SUPERSEDED
            uow.session.add(row)
    existing = set(
        (
            await uow.session.exec(
                select(Reminder.offset_seconds, Reminder.due_at).where(
                    Reminder.event_id == event.id
                )
            )
        ).all()
    )
    for seconds, due in sorted(wanted - existing):
        uow.session.add(Reminder(event_id=event.id, offset_seconds=seconds, due_at=due))  # type: ignore[arg-type]
    await uow.session.flush()
    uow.changes.reminders = True


async def schedule_for_person(uow: UnitOfWork, person_id: int, now: datetime) -> None:
    """After a person chose their own offsets: rows for their upcoming confirmed activities."""
    events = (
        await uow.session.exec(
            select(Event)
            .join(Registration, Registration.event_id == Event.id)  # type: ignore[arg-type]
            .where(
                Registration.person_id == person_id,
                Registration.status == RegistrationStatus.CONFIRMED,
                Event.status == EventStatus.SCHEDULED,
                Event.starts_at > now,
            )
        )
    ).all()
    for event in events:
        await schedule_event(uow, event, now)


@dataclass(frozen=True)
class Firing:
    """What a claimed reminder turned out to be, for the runner to act on."""

    reminder: Reminder
    event: Event | None
    outcome: str  # fire | cancelled | skipped
    recipients: list[Recipient] = field(default_factory=list)


@dataclass(frozen=True)
class Recipient:
    person: Person
    accounts: list[Identity]  # on platforms we can send to, the one to try first first
    maybe: bool = False  # holds no seat: asked for the reminders as a maybe


async def _recipients(
    uow: UnitOfWork, people: list[tuple[Person, bool]], platforms: frozenset[str]
) -> list[Recipient]:
    """Each person with their reachable accounts in order, in one query for the roster."""
    found = await reach.accounts(uow, [p for p, _ in people], platforms)
    return [Recipient(p, found[p.id], maybe) for p, maybe in people]  # type: ignore[index]


async def prepare(
    uow: UnitOfWork, reminder_id: int, now: datetime, platforms: frozenset[str] = frozenset()
) -> Firing:
    """Decide what a claimed reminder does. Recipients are computed now, not when it was
    scheduled: late sign-ups are included, cancellations and opted-out people are not, and
    anyone already recorded for this reminder is left out. `platforms`: where we can send."""
    reminder = await uow.session.get(Reminder, reminder_id)
    event = await uow.session.get(Event, reminder.event_id) if reminder else None
    if reminder is None or event is None or event.status == EventStatus.CANCELLED:
        if reminder is not None:
            await finish(uow, reminder.id, ReminderStatus.CANCELLED, now)  # type: ignore[arg-type]
        return Firing(reminder, event, "cancelled", [])  # type: ignore[arg-type]
    if event.starts_at <= now:
        await finish(uow, reminder.id, ReminderStatus.SKIPPED, now)  # type: ignore[arg-type]
        return Firing(reminder, event, "skipped", [])
    # Back after downtime, several of an activity's reminders may be due at once: each person
    # gets only the closest one they want (someone on other offsets than the activity's is
    # not left out because a reminder they don't want is closer).
    closer = [
        timedelta(seconds=seconds)
        for seconds in (
            await uow.session.exec(
                select(Reminder.offset_seconds).where(
                    Reminder.event_id == event.id,
                    Reminder.status.in_(OPEN),  # type: ignore[attr-defined]
                    Reminder.due_at <= now,
                    Reminder.offset_seconds < reminder.offset_seconds,
                )
            )
        ).all()
    ]
    offset = timedelta(seconds=reminder.offset_seconds)
    done = set(
        (
            await uow.session.exec(
                select(Delivery.person_id).where(Delivery.reminder_id == reminder.id)
            )
        ).all()
    )
    people = [
        (p, maybe)
        for p, maybe in await _confirmed_people(uow, event.id)  # type: ignore[arg-type]
        if p.id not in done
        and wants(p, event, offset)
        and not any(wants(p, event, nearer) for nearer in closer)
    ]
    return Firing(reminder, event, "fire", await _recipients(uow, people, platforms))


async def record(uow: UnitOfWork, firing: Firing, person_id: int, now: datetime) -> int | None:
    """Record the delivery before sending it; None when it was already recorded (sent, or
    being sent by a process that died): never send twice."""
    reminder = firing.reminder
    delivery = Delivery(
        reminder_id=reminder.id,
        event_id=reminder.event_id,
        person_id=person_id,  # type: ignore[arg-type]
        offset_seconds=reminder.offset_seconds,
        created_at=now,
    )
    uow.session.add(delivery)
    try:
        await uow.commit()
    except IntegrityError:
        await uow.rollback()
        return None
    return delivery.id


async def mark(
    uow: UnitOfWork,
    delivery_id: int,
    status: DeliveryStatus,
    now: datetime,
    *,
    platform: str | None = None,
    reason: str | None = None,
) -> None:
    delivery = await uow.session.get(Delivery, delivery_id)
    delivery.status, delivery.platform = status, platform  # type: ignore[union-attr]
    delivery.reason = reason[:300] if reason else None  # type: ignore[union-attr]
    if status == DeliveryStatus.SENT:
        delivery.sent_at = now  # type: ignore[union-attr]
    uow.session.add(delivery)
    await uow.commit()


async def finish(uow: UnitOfWork, reminder_id: int, status: ReminderStatus, now: datetime) -> None:
    reminder = await uow.session.get(Reminder, reminder_id)
    if reminder is not None and reminder.status in OPEN:
        reminder.status, reminder.fired_at, reminder.lease_until = status, now, None
        uow.session.add(reminder)
    await uow.commit()


@dataclass(frozen=True)
class LogEntry:
    name: str
    offset_seconds: int
    status: str
    reason: str | None  # sent: what failed before the platform that took it
    at: datetime
    platform: str | None = None  # sent: where it went; failed: the first platform tried


async def delivery_log(uow: UnitOfWork, event_id: int) -> list[LogEntry]:
    rows = await uow.session.exec(
        select(Delivery, Person.display_name)
        .join(Person, Person.id == Delivery.person_id)  # type: ignore[arg-type]
        .where(Delivery.event_id == event_id)
        .order_by(Delivery.created_at, Delivery.id)
    )
    return [
        LogEntry(name, d.offset_seconds, d.status, d.reason, d.sent_at or d.created_at, d.platform)
        for d, name in rows.all()
    ]


async def skipped_count(uow: UnitOfWork, event_id: int) -> int:
    return (
        await uow.session.exec(
            select(sa.func.count())
            .select_from(Reminder)
            .where(Reminder.event_id == event_id, Reminder.status == ReminderStatus.SKIPPED)
        )
    ).one()
