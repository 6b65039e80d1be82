"""Activities: create, edit, cancel, list; sign-up with capacity and a self-moving waitlist.

Concurrency: every change to an activity's roster first locks the activity row (FOR UPDATE on
PostgreSQL; on SQLite the write transaction's BEGIN IMMEDIATE already serialises writers), so
reading the seats taken (the activity's stored counts, core.services.tallies) and taking one
happen as one step and nothing is ever overbooked.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import func, select

from core import permissions, work
from core.clock import Clock
from core.errors import conflict, invalid, not_found
from core.i18n import N_, Plural
from core.models import (
    Event,
    EventStatus,
    Group,
    GroupChat,
    Identity,
    Job,
    Membership,
    MembershipStatus,
    Person,
    Registration,
    RegistrationStatus,
    Visibility,
)
from core.parsing import FREE, Fee, check_capacity
from core.services import chats, groups, reminders, tallies
from core.services.groups import find_group, membership_of
from core.uow import UnitOfWork
from core.validation import check_timezone, clean_text, is_id, one_line

# holding, offered or awaiting seats
ACTIVE = (RegistrationStatus.CONFIRMED, RegistrationStatus.OFFERED, RegistrationStatus.WAITLISTED)
LISTED = (*ACTIVE, RegistrationStatus.MAYBE)  # on the roster, maybes included
MAX_GUESTS = 10
YEARS_AHEAD = 5  # how far ahead an activity may start (check_future)
#: What a calendar entry shows: a change to any bumps the entry's SEQUENCE.
CALENDAR_FIELDS = {"title", "description", "starts_at", "place"}
#: What the people on the roster are told of (core.roster_news): where and when, and a new price.
TOLD_FIELDS = {"starts_at", "place", "fee_cents", "fee_currency"}
#: Platforms whose servers have events of their own, kept in step with an activity of a group
#: homed there (the "mirror" job; adapters/discord/scheduled.py does Discord's).
MIRROR = "mirror"
NATIVE_EVENT_PLATFORMS = ("discord",)


async def mirror(uow: UnitOfWork, event: Event) -> None:
    """Ask for the activity's native events (where its group has a home) to be made or brought
    up to date, in the transaction that changed it."""
    homes = await uow.session.exec(
        select(GroupChat.id).where(
            GroupChat.group_id == event.group_id,
            GroupChat.platform.in_(NATIVE_EVENT_PLATFORMS),  # type: ignore[attr-defined]
        )
    )
    if homes.first() is not None:
        await work.schedule(uow, MIRROR, str(event.id), work.AT_ONCE)


OFFER = "offer"  # the job kind of a timed offer (core.offers)
PROMOTED = "promoted"  # the job kind of telling someone the waitlist gave them a seat
NEWS = "news"  # the job kind of telling someone on a roster their activity moved or was cancelled
SERIES_NEWS = "series-news"  # the same, once, for a change to every coming occurrence of a series


@dataclass(frozen=True)
class EventView:
    """An activity as one viewer sees it: counts, their own place, what they may do."""

    event: Event
    group: Group
    confirmed: int
    waitlisted: int
    viewer_status: str | None = None
    viewer_position: int | None = None
    can_manage: bool = False
    viewer_guests: int = 0
    viewer_offer_until: datetime | None = None  # a seat held for them (timed offers) till then
    viewer_reminded: bool = False  # a maybe who asked for the reminders too

    @property
    def is_full(self) -> bool:
        return self.event.capacity is not None and self.confirmed >= self.event.capacity


@dataclass(frozen=True)
class SignupResult:
    view: EventView
    status: str  # confirmed | waitlisted | already_confirmed | already_waitlisted (an offered
    # seat is taken: confirmed)
    position: int | None = None


@dataclass(frozen=True)
class RosterChange:
    """What an action did to the roster; `promoted` are people moved from waitlist to confirmed."""

    view: EventView
    promoted: list[int] = field(default_factory=list)
    previous_status: str | None = None


@dataclass(frozen=True)
class EditResult:
    view: EventView
    changed: list[str]
    promoted: list[int]


@dataclass(frozen=True)
class Attendee:
    name: str
    status: str
    platforms: tuple[str, ...]  # where the person has accounts (one roster across platforms)
    guests: int = 0


@dataclass(frozen=True)
class Attendees:
    view: EventView
    people: list[Attendee]  # in arrival order

    @property
    def confirmed(self) -> list[str]:
        return [p.name for p in self.people if p.status == RegistrationStatus.CONFIRMED]

    @property
    def waitlisted(self) -> list[str]:
        return [p.name for p in self.people if p.status == RegistrationStatus.WAITLISTED]

    @property
    def platforms(self) -> set[str]:
        return {platform for person in self.people for platform in person.platforms}


@dataclass
class EventDraft:
    """The fields of a new activity, as typed values (parsing is the adapter's job)."""

    title: str
    starts_at: datetime
    place: str
    description: str = ""
    fee: Fee = FREE
    capacity: int | None = None
    signup_deadline: datetime | None = None
    timezone: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    reminder_offsets: list[timedelta] | None = None  # None: the configured default
    max_guests: int = 0  # guests each person may bring
    offer_seconds: int | None = None  # timed waitlist offers: how long a freed seat is held


def check_future(starts_at: datetime, now: datetime) -> None:
    """A start people can come to: after now, and at most YEARS_AHEAD away. A date years off
    is a typo (9999 for 2026), and one near the end of the calendar has no room for the
    dates worked out from it (the next occurrences of a series, reminders before it)."""
    if starts_at <= now:
        raise invalid(
            "start_in_past", N_("That time has already passed: pick a time in the future.")
        )
    if starts_at > now + timedelta(days=366 * YEARS_AHEAD):
        raise invalid(
            "start_too_far",
            N_("That time is too far ahead: pick one within {years} years."),
            years=YEARS_AHEAD,
        )


def _validate(draft: EventDraft, now: datetime, *, deadline_unchanged: bool = False) -> None:
    """`deadline_unchanged`: an edit that keeps the deadline may keep one that has passed."""
    draft.title = one_line(clean_text(draft.title, field="title", min_len=1, max_len=120))
    draft.place = one_line(clean_text(draft.place, field="place", min_len=1, max_len=200))
    draft.description = clean_text(draft.description, field="description", min_len=0, max_len=2000)
    if draft.starts_at.tzinfo is None:
        raise ValueError("starts_at must be timezone-aware")
    check_future(draft.starts_at, now)
    if draft.fee.cents < 0:
        raise invalid("negative_fee", N_("A fee can't be negative."))
    draft.capacity = check_capacity(draft.capacity)
    deadline = draft.signup_deadline
    if deadline is not None and not (
        (deadline_unchanged or now < deadline) and deadline <= draft.starts_at
    ):
        raise invalid(
            "bad_deadline", N_("The sign-up deadline must be in the future and before the start.")
        )
    if draft.timezone is not None:
        check_timezone(draft.timezone)
    if not 0 <= draft.max_guests <= MAX_GUESTS:
        raise invalid(
            "bad_max_guests",
            N_("Guests per person: a number from 0 to {most}."),
            most=MAX_GUESTS,
        )


async def managed_event(uow: UnitOfWork, actor_id: int, event_id: int) -> Event:
    """The activity, for its organiser or an admin of its group (check-in, series, export)."""
    view = await get_event(uow, actor_id, event_id)
    membership = await membership_of(uow, view.event.group_id, actor_id)
    permissions.require_event_manager(view.event, membership, actor_id)
    return view.event


# the reads of every sign-up, cancel and card, built once with parameters: building a statement
# and working out its cache key cost more than running it on SQLite
_LOCKED = select(Event).where(Event.id == sa.bindparam("event_id")).with_for_update()
# the person's membership (if any) in a group, joined to that group's row
_MEMBER = sa.and_(
    Membership.group_id == Group.id,  # type: ignore[arg-type]
    Membership.person_id == sa.bindparam("person_id"),
)
# an activity with its group and the person's membership there, in one statement where three
# reads took three: nearly every card, sign-up and cancel needs all of them
_SEEN = (
    select(Event, Group, Membership)
    .join(Group, Group.id == Event.group_id)  # type: ignore[arg-type]
    .outerjoin(Membership, _MEMBER)
    .where(Event.id == sa.bindparam("event_id"))
)
_GROUP_SEEN = (
    select(Group, Membership)
    .outerjoin(Membership, _MEMBER)
    .where(Group.id == sa.bindparam("group_id"))
)
_REGISTRATION = select(Registration).where(
    Registration.event_id == sa.bindparam("event_id"),
    Registration.person_id == sa.bindparam("person_id"),
)
_LAST_SEQ = select(func.coalesce(func.max(Registration.seq), 0)).where(
    Registration.event_id == sa.bindparam("event_id")
)


async def _lock_event(uow: UnitOfWork, event_id: int) -> Event:
    """The activity, locked for a change of its roster or details."""
    if not is_id(event_id):
        raise not_found("event", id=event_id)
    event = (await uow.session.exec(_LOCKED, params={"event_id": event_id})).first()
    if event is None:
        raise not_found("event", id=event_id)
    uow.activity_changed(event_id)  # locked to be changed: its cards are redrawn on commit
    return event


async def _seen_by(
    uow: UnitOfWork, event_id: int, person_id: int, *, lock: bool = False
) -> tuple[Event, Group, Membership | None]:
    """The activity, its group and the person's membership there (None: not a member).
    `lock`: to change its roster or details, as _lock_event.

    One statement, except when locking on PostgreSQL: there a statement that waits for the
    activity's lock returns the activity as committed by then, but the rows joined to it as
    they were when it started, so a ban committed during the wait would go unseen. The lock
    comes first there, and the group and membership are read after it. On SQLite a write
    transaction waits at its BEGIN, before any statement."""
    if not is_id(event_id):
        raise not_found("event", id=event_id)
    if lock and uow.session.bind.dialect.name != "sqlite":  # type: ignore[union-attr]
        event = await _lock_event(uow, event_id)
        params = {"group_id": event.group_id, "person_id": person_id}
        group, membership = (await uow.session.exec(_GROUP_SEEN, params=params)).one()
        return event, group, membership
    params = {"event_id": event_id, "person_id": person_id}
    row = (await uow.session.exec(_SEEN, params=params)).first()
    if row is None:
        raise not_found("event", id=event_id)
    if lock:
        uow.activity_changed(event_id)
    return row  # type: ignore[return-value]


async def registration_of(uow: UnitOfWork, event_id: int, person_id: int) -> Registration | None:
    params = {"event_id": event_id, "person_id": person_id}
    return (await uow.session.exec(_REGISTRATION, params=params)).first()


async def _position(uow: UnitOfWork, registration: Registration) -> int:
    ahead = await uow.session.exec(
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.event_id == registration.event_id,
            Registration.status == RegistrationStatus.WAITLISTED,
            Registration.seq < registration.seq,
        )
    )
    return ahead.one() + 1


_UNREAD: Any = object()  # "not read yet" for what _view may be handed (None is an answer)


async def _view(
    uow: UnitOfWork,
    event: Event,
    viewer_id: int,
    group: Group | None = None,
    *,
    membership: Membership | None = _UNREAD,
    mine: Registration | None = _UNREAD,
) -> EventView:
    """The viewer's view of an activity; what the caller already read is not read again."""
    group = group or await uow.session.get(Group, event.group_id)
    if membership is _UNREAD:
        membership = await membership_of(uow, event.group_id, viewer_id)
    if mine is _UNREAD:
        mine = await registration_of(uow, event.id, viewer_id)  # type: ignore[arg-type]
    active = mine if mine is not None and mine.status in LISTED else None
    view = await _as_seen(uow, event, group, active)  # type: ignore[arg-type]
    return replace(view, can_manage=permissions.can_manage_event(event, membership, viewer_id))


async def _promote(uow: UnitOfWork, event: Event, now: datetime) -> list[int]:
    """Fill free seats from the waitlist in arrival order, whole parties only: a party that
    does not fit waits, and nobody behind it goes first (fair to a family of four; documented
    in docs/organisers.md). With timed offers on, the seats are offered instead (held until a
    deadline; the offer worker tells them and expires what is not taken). Returns who got a
    seat outright; each is told by the notice worker (core.promotions, core.notices), whatever path
    promoted them. A party bigger than the whole activity is passed over: it would hold the line
    for good. The caller holds the event lock."""
    free = None if event.capacity is None else event.capacity - event.going
    if free is not None and free <= 0:
        return []
    statement = (
        select(Registration)
        .where(
            Registration.event_id == event.id, Registration.status == RegistrationStatus.WAITLISTED
        )
        .order_by(Registration.seq)
    )
    promoted = []
    for registration in (await uow.session.exec(statement)).all():
        party = 1 + registration.guests
        if event.capacity is not None and party > event.capacity:
            continue  # can never fit (the capacity went down since): must not hold the line
        if free is not None and party > free:
            break
        if event.offer_seconds:
            await _offer(uow, event, registration, now)
        else:
            tallies.move_registration(event, registration, RegistrationStatus.CONFIRMED, now)
            promoted.append(registration.person_id)
            # told by core.promotions, durably: the notice commits with the seat
            seat = str(registration.seq)  # this sign-up's: one made later is not promoted
            await work.schedule(uow, PROMOTED, str(registration.id), work.AT_ONCE, seat)
        uow.session.add(registration)
        if free is not None:
            free -= party
    return promoted


@functools.cache
def _news_for_roster(dialect: str) -> sa.Insert:
    """A "news" job for each person on an activity's roster but those skipped, in one
    statement (keyed "activity:person": a second change before the first was told is told once,
    as it then stands). Built once."""
    table = Registration.__table__  # type: ignore[attr-defined]
    key = (
        sa.cast(table.c.event_id, sa.String)
        + sa.literal(":")
        + sa.cast(table.c.person_id, sa.String)
    ).label("key")
    roster = select(key).where(
        table.c.event_id == sa.bindparam("event_id"),
        table.c.status.in_(LISTED),
        table.c.person_id.not_in(sa.bindparam("skip", expanding=True)),
    )
    return work.upsert_each(dialect, NEWS, roster)


async def _tell_roster(uow: UnitOfWork, event: Event, skip: list[int]) -> None:
    """Everyone on the roster (but `skip`) is told the activity moved or was cancelled, by the
    notice worker (core.roster_news), durably: the duty to tell commits with the change."""
    params = {"event_id": event.id, "skip": skip}
    await work.schedule_each(uow, NEWS, _news_for_roster, params)


@functools.cache
def _news_for_series(dialect: str) -> sa.Insert:
    """A "series-news" job for each person on any of the rosters (keyed "series:person", each
    person once), carrying the activities changed. Built once."""
    table = Registration.__table__  # type: ignore[attr-defined]
    key = (
        sa.cast(sa.bindparam("series_id", type_=sa.Integer), sa.String)
        + sa.literal(":")
        + sa.cast(table.c.person_id, sa.String)
    ).label("key")
    rosters = (
        select(key)
        .distinct()
        .where(
            table.c.event_id.in_(sa.bindparam("events", expanding=True)),
            table.c.status.in_(LISTED),
            table.c.person_id.not_in(sa.bindparam("skip", expanding=True)),
        )
    )
    return work.upsert_each(dialect, SERIES_NEWS, rosters)


async def tell_series(uow: UnitOfWork, series_id: int, changed: list[int], skip: list[int]) -> None:
    """Everyone on the rosters of a series' `changed` occurrences (but `skip`) is told once, with
    each of their dates (core.roster_news), in the transaction that changed them all. News of
    one of those occurrences not yet told (an edit of it just before) is told by this instead:
    it says the same dates as they stand, and once."""
    if changed:
        payload = ",".join(map(str, changed))
        params = {"series_id": series_id, "events": changed, "skip": skip, "payload": payload}
        await work.schedule_each(uow, SERIES_NEWS, _news_for_series, params)
        told_here = sa.and_(
            sa.or_(*(Job.key.startswith(f"{event_id}:") for event_id in changed)),  # type: ignore[attr-defined]
            # the skipped (the editor) get no series news: what was pending for them stays
            Job.key.not_in([f"{e}:{p}" for e in changed for p in skip]),  # type: ignore[attr-defined]
        )
        await work.drop_pending(uow, NEWS, told_here)


def offer_deadline(event: Event, now: datetime) -> datetime:
    """How long an offered seat is held: the activity's window, or half the time left before
    the start when that is shorter (an offer must leave time to pass it on)."""
    window = timedelta(seconds=event.offer_seconds or 0)
    return now + min(window, (event.starts_at - now) / 2)


async def _offer(uow: UnitOfWork, event: Event, registration: Registration, now: datetime) -> None:
    tallies.move_registration(event, registration, RegistrationStatus.OFFERED, now)
    registration.offer_until = offer_deadline(event, now)
    uow.session.add(registration)
    await uow.session.flush()
    await work.schedule(uow, OFFER, str(registration.id), work.AT_ONCE)  # tell them now


async def answer_offer(
    uow: UnitOfWork, clock: Clock, actor_id: int, event_id: int, *, accept: bool
) -> RosterChange:
    """Take the offered seat, or pass it on to the next party waiting (passing gives up the
    place on the waitlist too)."""
    event = await _lock_event(uow, event_id)
    now = clock.now()
    _require_open(event, now)
    registration = await registration_of(uow, event_id, actor_id)
    live = (
        registration is not None
        and registration.status == RegistrationStatus.OFFERED
        and registration.offer_until is not None
        and now < registration.offer_until
    )
    if not live:
        taken = registration is not None and registration.status == RegistrationStatus.CONFIRMED
        if accept and taken:  # a second tap on Accept
            raise conflict("offer_taken", N_("The seat is yours already."))
        raise conflict("no_offer", N_("There is no seat offered to you for this activity now."))
    previous = registration.status  # type: ignore[union-attr]
    if not accept:
        return await _leave(uow, event, registration, RegistrationStatus.CANCELLED, now, previous)  # type: ignore[arg-type]
    tallies.move_registration(event, registration, RegistrationStatus.CONFIRMED, now)  # type: ignore[arg-type]
    registration.offer_until = None  # type: ignore[union-attr]
    uow.session.add(registration)
    await reminders.schedule_event(uow, event, now)
    await uow.session.flush()
    view = await _view(uow, event, actor_id, mine=registration)
    await uow.commit()
    return RosterChange(view=view, previous_status=previous)


async def expire_offer(uow: UnitOfWork, registration_id: int, now: datetime) -> RosterChange | None:
    """An offer's deadline passed unanswered: the seat goes to the next party waiting, and the
    person leaves the waitlist. None when there was nothing to expire (accepted, passed)."""
    registration = await uow.session.get(Registration, registration_id)
    if registration is None:
        return None
    event = await _lock_event(uow, registration.event_id)
    await uow.session.refresh(registration)
    if registration.status != RegistrationStatus.OFFERED:
        return None
    return await _leave(
        uow, event, registration, RegistrationStatus.CANCELLED, now, RegistrationStatus.OFFERED
    )


async def get_event(uow: UnitOfWork, viewer_id: int, event_id: int) -> EventView:
    event, group, membership = await _seen_by(uow, event_id, viewer_id)
    view = await _view(uow, event, viewer_id, group, membership=membership)
    permissions.require_content_access(group, membership)
    return view


async def shared_view(uow: UnitOfWork, event_id: int) -> EventView:
    """The activity as a card in a shared chat shows it: counts, no one's own place."""
    event = await uow.session.get(Event, event_id) if is_id(event_id) else None
    if event is None:
        raise not_found("event", id=event_id)
    group = await uow.session.get(Group, event.group_id)
    return await _as_seen(uow, event, group, None)  # type: ignore[arg-type]


async def views_for_readers(
    uow: UnitOfWork, event_id: int, readers: list[int]
) -> tuple[EventView, dict[int, EventView]]:
    """The shared view of an activity and each reader's own, in a few queries whatever the
    number of readers (the card refresher draws dozens per change). A reader who may no
    longer see the activity (banned, out of a private group) gets no view of their own."""
    shared = await shared_view(uow, event_id)
    event, group = shared.event, shared.group
    if not readers:
        return shared, {}
    places = {
        r.person_id: r
        for r in (
            await uow.session.exec(
                select(Registration).where(
                    Registration.event_id == event_id,
                    Registration.person_id.in_(readers),  # type: ignore[attr-defined]
                )
            )
        ).all()
    }
    memberships = await groups.memberships_of(uow, event.group_id, readers)
    views = {}
    for reader in readers:
        membership = memberships.get(reader)
        if not permissions.can_see_content(group, membership):
            continue
        mine = places.get(reader)
        active = mine if mine is not None and mine.status in LISTED else None
        view = await _as_seen(uow, event, group, active)
        views[reader] = replace(
            view, can_manage=permissions.can_manage_event(event, membership, reader)
        )
    return shared, views


async def creating_in(uow: UnitOfWork, actor_id: int, ref: str) -> tuple[Group, Membership | None]:
    """The group an activity is to be created in, and the person's membership, if they may
    create one there (else the refusal creating it would give): a form asks for the details
    only then."""
    group = await find_group(uow, ref)
    membership = await membership_of(uow, group.id, actor_id)  # type: ignore[arg-type]
    permissions.require_event_creator(group, membership)
    return group, membership


async def create_event(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    ref: str,
    draft: EventDraft,
    *,
    answered_in: tuple[str, str] | None = None,
) -> EventView:
    """A new activity, announced in its group's home chats (but `answered_in`, the chat whose
    answer already shows it)."""
    group, membership = await creating_in(uow, actor_id, ref)
    _validate(draft, clock.now())
    event = Event(
        group_id=group.id,
        creator_id=actor_id,
        title=draft.title,
        description=draft.description,  # type: ignore[arg-type]
        starts_at=draft.starts_at,
        timezone=draft.timezone or group.timezone,
        place=draft.place,
        latitude=draft.latitude,
        longitude=draft.longitude,
        fee_cents=draft.fee.cents,
        fee_currency=draft.fee.currency,
        capacity=draft.capacity,
        max_guests=draft.max_guests,
        offer_seconds=draft.offer_seconds,
        signup_deadline=draft.signup_deadline,
        reminder_offsets=reminders.format_offsets(
            reminders.DEFAULT_OFFSETS if draft.reminder_offsets is None else draft.reminder_offsets
        ),
        created_at=clock.now(),
    )
    uow.session.add(event)
    await uow.session.flush()
    uow.changes.listings = True
    await reminders.schedule_event(uow, event, clock.now())
    await mirror(uow, event)
    await chats.announce(uow, "event", event.id, group.id, answered_in)  # type: ignore[arg-type]
    view = await _view(uow, event, actor_id, group, membership=membership, mine=None)
    await uow.commit()
    return view


EDITABLE = (
    "title",
    "description",
    "starts_at",
    "place",
    "fee",
    "capacity",
    "signup_deadline",
    "latitude",
    "longitude",
    "reminder_offsets",
    "max_guests",
    "offer_seconds",
)


async def edit_event(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    event_id: int,
    *,
    in_series: bool = False,
    **changes: object,
) -> EditResult:
    """Change some fields. Raising the capacity promotes from the waitlist at once; lowering it
    below the people already confirmed is refused rather than taking anyone's seat away.
    `in_series`: one occurrence of a change to a whole series, whose caller tells the rosters
    once (`tell_series`) and commits them all together."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    event, group, membership = await _seen_by(uow, event_id, actor_id, lock=True)
    permissions.require_event_manager(event, membership, actor_id)
    if event.status == EventStatus.CANCELLED:
        raise conflict("event_cancelled", N_("This activity was cancelled."))
    now = clock.now()
    draft = EventDraft(
        title=event.title,
        starts_at=event.starts_at,
        place=event.place,
        description=event.description,
        fee=Fee(event.fee_cents, event.fee_currency),
        capacity=event.capacity,
        signup_deadline=event.signup_deadline,
        latitude=event.latitude,
        longitude=event.longitude,
        reminder_offsets=reminders.event_offsets(event),
        max_guests=event.max_guests,
        offer_seconds=event.offer_seconds,
    )
    for name, value in changes.items():
        setattr(draft, name, value)
    if "starts_at" not in changes and event.starts_at <= now:
        raise conflict("event_started", N_("This activity has already started."))
    _validate(draft, now, deadline_unchanged="signup_deadline" not in changes)
    confirmed = event.going
    if draft.capacity is not None and draft.capacity < confirmed:
        raise conflict(
            "capacity_below_confirmed",
            N_("Seats already taken: {count} (guests included). Capacity can't go below that."),
            count=confirmed,
        )
    if draft.capacity is not None and draft.capacity < (event.capacity or draft.capacity + 1):
        waiting = await _largest_waiting_party(uow, event.id)  # type: ignore[arg-type]
        if waiting > draft.capacity:
            raise conflict(
                "capacity_below_party",
                N_("A party of {party} is on the waitlist: capacity can't go below that."),
                party=waiting,
            )
    before = {
        name: getattr(event, name)
        for name in (
            "title",
            "description",
            "starts_at",
            "place",
            "capacity",
            "signup_deadline",
            "latitude",
            "longitude",
            "fee_cents",
            "fee_currency",
            "reminder_offsets",
            "max_guests",
            "offer_seconds",
        )
    }
    event.title, event.description, event.place = draft.title, draft.description, draft.place
    event.starts_at, event.capacity = draft.starts_at, draft.capacity
    event.signup_deadline = draft.signup_deadline
    event.latitude, event.longitude = draft.latitude, draft.longitude
    event.fee_cents, event.fee_currency = draft.fee.cents, draft.fee.currency
    event.reminder_offsets = reminders.format_offsets(draft.reminder_offsets or [])
    event.max_guests = draft.max_guests
    event.offer_seconds = draft.offer_seconds
    changed = [name for name, old in before.items() if getattr(event, name) != old]
    if set(changed) & CALENDAR_FIELDS:
        event.sequence += 1  # calendars that imported it replace their copy (core.calendar)
        await mirror(uow, event)
    uow.changes.listings = uow.changes.listings or bool(changed)
    uow.session.add(event)
    promoted = await _promote(uow, event, now)
    moved = TOLD_FIELDS & set(changed)
    if moved and not in_series:  # who the edit gave a seat hears it from that
        await _tell_roster(uow, event, [actor_id, *promoted])
    await reminders.schedule_event(uow, event, now)
    await uow.session.flush()
    view = await _view(uow, event, actor_id, group, membership=membership)
    if not in_series:
        await uow.commit()
    return EditResult(view=view, changed=changed, promoted=promoted)


async def cancel_event(
    uow: UnitOfWork, clock: Clock, actor_id: int, event_id: int, *, in_series: bool = False
) -> EditResult:
    """`in_series`: as for `edit_event`."""
    event, group, membership = await _seen_by(uow, event_id, actor_id, lock=True)
    permissions.require_event_manager(event, membership, actor_id)
    _require_open(event, clock.now())
    event.status = EventStatus.CANCELLED
    event.sequence += 1
    await mirror(uow, event)
    uow.changes.listings = True
    uow.session.add(event)
    await reminders.schedule_event(uow, event, clock.now())
    if not in_series:
        await _tell_roster(uow, event, [actor_id])
    await uow.session.flush()
    view = await _view(uow, event, actor_id, group, membership=membership)
    if not in_series:
        await uow.commit()
    return EditResult(view=view, changed=["status"], promoted=[])


def _require_open(event: Event, now: datetime) -> None:
    if event.status == EventStatus.CANCELLED:
        raise conflict("event_cancelled", N_("This activity was cancelled."))
    if event.starts_at <= now:
        raise conflict("event_started", N_("This activity has already started."))


async def sign_up(
    uow: UnitOfWork, clock: Clock, actor_id: int, event_id: int, guests: int | None = None
) -> SignupResult:
    """Take seats for oneself and `guests` (none by default), or the next place on the
    waitlist for the whole party. Signing up twice changes nothing; a "maybe" who signs up
    becomes a sign-up, and someone offered a seat takes it."""
    event, group, membership = await _open_for(uow, clock, actor_id, event_id)
    now = clock.now()
    existing = await registration_of(uow, event_id, actor_id)
    if existing is not None and existing.status == RegistrationStatus.OFFERED:
        if existing.offer_until is not None and now < existing.offer_until:
            # a tap on Sign up (the group chat's card shows no Accept) takes the seat held
            change = await answer_offer(uow, clock, actor_id, event_id, accept=True)
            return SignupResult(change.view, "confirmed")
        # held no longer, and not yet passed on by its job: passed on now, as the job would;
        # then they sign up again like anyone else
        await expire_offer(uow, existing.id, now)  # type: ignore[arg-type]
        return await sign_up(uow, clock, actor_id, event_id, guests)
    if existing is not None and existing.status in ACTIVE:
        view = await _view(uow, event, actor_id, group, membership=membership, mine=existing)
        return SignupResult(view, f"already_{existing.status}", view.viewer_position)
    if event.signup_deadline is not None and now > event.signup_deadline:
        raise conflict("signup_closed", N_("Sign-up for this activity has closed."))
    registration = existing or Registration(
        event_id=event_id,
        person_id=actor_id,
        status=RegistrationStatus.CANCELLED,
        seq=0,
        created_at=now,
        updated_at=now,
    )
    party_guests = _check_guests(event, guests if guests is not None else 0)
    if registration.status == RegistrationStatus.MAYBE:  # the count of maybes moves first
        tallies.move_registration(event, registration, RegistrationStatus.CANCELLED, now)
    registration.guests = party_guests
    status = (
        RegistrationStatus.CONFIRMED
        if await _seats_free(uow, event, 1 + party_guests)
        else RegistrationStatus.WAITLISTED
    )
    registration.seq = await _next_seq(uow, event_id)
    tallies.move_registration(event, registration, status, now)
    registration.remind = True
    uow.session.add(registration)
    await uow.session.flush()
    person = await uow.session.get(Person, actor_id)
    if status == RegistrationStatus.CONFIRMED and person and person.reminder_offsets:
        await reminders.schedule_event(uow, event, now)  # rows for their own offsets
    view = await _view(uow, event, actor_id, group, membership=membership, mine=registration)
    await uow.commit()
    return SignupResult(view, status, view.viewer_position)


async def _open_for(
    uow: UnitOfWork, clock: Clock, actor_id: int, event_id: int
) -> tuple[Event, Group, Membership | None]:
    """The activity, locked, if the actor may act on its roster now."""
    event, group, membership = await _seen_by(uow, event_id, actor_id, lock=True)
    permissions.require_content_access(group, membership)
    _require_open(event, clock.now())
    return event, group, membership


async def _next_seq(uow: UnitOfWork, event_id: int) -> int:
    return (await uow.session.exec(_LAST_SEQ, params={"event_id": event_id})).one() + 1


async def _seats_free(uow: UnitOfWork, event: Event, party: int) -> bool:
    """Whether a new party of `party` seats gets them now: there must be room, and nobody
    already waiting who could have them (who would otherwise be overtaken). A party bigger
    than the whole activity (written before parties were checked against the capacity) can
    never be seated: _promote passes it over, and it holds nobody back here either."""
    if event.capacity is None:
        return True
    if event.going + party > event.capacity:
        return False
    if event.waiting == 0:
        return True
    could_fit = select(Registration.id).where(
        Registration.event_id == event.id,
        Registration.status == RegistrationStatus.WAITLISTED,
        Registration.guests < event.capacity,  # 1 + guests <= capacity
    )
    return (await uow.session.exec(could_fit.limit(1))).first() is None


async def _largest_waiting_party(uow: UnitOfWork, event_id: int) -> int:
    """The seats the biggest party waiting for them needs (0 when nobody waits): a capacity
    below it would leave that party waiting for good."""
    waiting = (RegistrationStatus.WAITLISTED, RegistrationStatus.OFFERED)
    largest = select(sa.func.max(Registration.guests)).where(
        Registration.event_id == event_id,
        Registration.status.in_(waiting),  # type: ignore[attr-defined]
    )
    guests = (await uow.session.exec(largest)).one()
    return 0 if guests is None else 1 + guests


def _check_guests(event: Event, guests: int) -> int:
    if guests < 0:
        raise invalid("negative_guests", N_("The number of guests can't be negative."))
    if guests > event.max_guests:
        if event.max_guests == 0:
            raise invalid("no_guests", N_("This activity takes no guests."))
        raise invalid(
            "too_many_guests",
            Plural.ngettext(
                "At most {n} guest per person for this activity.",
                "At most {n} guests per person for this activity.",
            ),
            n=event.max_guests,
        )
    if event.capacity is not None and 1 + guests > event.capacity:
        raise invalid(
            "party_too_big",
            N_("A party of {party} can't fit: this activity's capacity is {capacity}."),
            party=1 + guests,
            capacity=event.capacity,
        )
    return guests


async def cancel_signup(
    uow: UnitOfWork, clock: Clock, actor_id: int, event_id: int
) -> RosterChange:
    """Give the place up, guests included (a maybe stops being one); freed seats go to the
    first parties waiting."""
    event, group, membership = await _seen_by(uow, event_id, actor_id, lock=True)
    now = clock.now()
    _require_open(event, now)
    registration = await registration_of(uow, event_id, actor_id)
    if registration is None or registration.status not in LISTED:
        raise conflict("not_signed_up", N_("You are not signed up for this activity."))
    previous = registration.status
    return await _leave(
        uow, event, registration, RegistrationStatus.CANCELLED, now, previous, (group, membership)
    )


async def _leave(
    uow: UnitOfWork,
    event: Event,
    registration: Registration,
    status: str,
    now: datetime,
    previous: str,
    seen: tuple[Group, Membership | None] | None = None,
) -> RosterChange:
    """Move someone off their seat or place (to cancelled, or to maybe), promote whoever fits
    in what they freed, and commit. `seen`: the group and the person's membership, when the
    caller has read them already."""
    tallies.move_registration(event, registration, status, now)
    registration.guests = 0
    registration.remind = status != RegistrationStatus.MAYBE
    uow.session.add(registration)
    await uow.session.flush()
    promoted = await _promote(uow, event, now) if previous in ACTIVE else []
    if promoted:
        await reminders.schedule_event(uow, event, now)
    await uow.session.flush()
    group, membership = seen if seen is not None else (None, _UNREAD)
    view = await _view(
        uow, event, registration.person_id, group, membership=membership, mine=registration
    )
    await uow.commit()
    return RosterChange(view=view, promoted=promoted, previous_status=previous)


async def maybe(uow: UnitOfWork, clock: Clock, actor_id: int, event_id: int) -> RosterChange:
    """Interested, not committed: holds no seat (a seat held is given up, and goes to the
    first party waiting), shown apart on the roster, reminded only if they ask."""
    event, group, membership = await _open_for(uow, clock, actor_id, event_id)
    now = clock.now()
    registration = await registration_of(uow, event_id, actor_id)
    if registration is not None and registration.status == RegistrationStatus.MAYBE:
        view = await _view(uow, event, actor_id, group, membership=membership, mine=registration)
        return RosterChange(view=view, previous_status=RegistrationStatus.MAYBE)
    if registration is None:
        registration = Registration(
            event_id=event_id,
            person_id=actor_id,
            status=RegistrationStatus.CANCELLED,
            seq=await _next_seq(uow, event_id),
            created_at=now,
            updated_at=now,
        )
    previous = registration.status
    return await _leave(
        uow, event, registration, RegistrationStatus.MAYBE, now, previous, (group, membership)
    )


async def remind_maybe(
    uow: UnitOfWork, clock: Clock, actor_id: int, event_id: int, *, remind: bool = True
) -> EventView:
    """A maybe asks to be reminded too, or (`remind` False) no longer; asking twice changes
    nothing. Their own reminder times get rows, as at a sign-up."""
    event, group, membership = await _open_for(uow, clock, actor_id, event_id)
    registration = await registration_of(uow, event_id, actor_id)
    if registration is None or registration.status != RegistrationStatus.MAYBE:
        raise conflict("not_a_maybe", N_("Mark yourself as maybe first."))
    registration.remind = remind
    uow.session.add(registration)
    await uow.session.flush()
    person = await uow.session.get(Person, actor_id)
    if remind and person and person.reminder_offsets:
        await reminders.schedule_event(uow, event, clock.now())
    view = await _view(uow, event, actor_id, group, membership=membership, mine=registration)
    await uow.commit()
    return view


async def change_guests(
    uow: UnitOfWork, clock: Clock, actor_id: int, event_id: int, delta: int
) -> RosterChange:
    """Bring one guest more (`delta` 1) or fewer (-1). Not signed up yet: signs up with one
    guest. A seated party grows only into free seats (nobody waiting is overtaken); a party
    on the waitlist keeps its place; fewer guests free seats for the parties waiting."""
    event, group, membership = await _open_for(uow, clock, actor_id, event_id)
    now = clock.now()
    registration = await registration_of(uow, event_id, actor_id)
    if registration is None or registration.status not in ACTIVE:
        if delta < 0:
            raise conflict("not_signed_up", N_("You are not signed up for this activity."))
        result = await sign_up(uow, clock, actor_id, event_id, guests=_check_guests(event, 1))
        return RosterChange(view=result.view, previous_status=None)
    if delta < 0:  # fewer is always allowed, even above a limit lowered since they came
        if registration.guests == 0:
            raise conflict("no_guests_to_drop", N_("You're not bringing any guests."))
        guests = registration.guests + delta
    else:
        guests = _check_guests(event, registration.guests + delta)
    seated = registration.status == RegistrationStatus.CONFIRMED
    if seated and delta > 0 and not await _seats_free(uow, event, delta):
        raise conflict("no_seat_for_guest", N_("No free seat for another guest."))
    tallies.set_guests(event, registration, guests)
    uow.session.add(registration)
    await uow.session.flush()
    promoted = await _promote(uow, event, now)
    if promoted:
        await reminders.schedule_event(uow, event, now)
    await uow.session.flush()
    view = await _view(uow, event, actor_id, group, membership=membership, mine=registration)
    await uow.commit()
    return RosterChange(view=view, promoted=promoted, previous_status=registration.status)


def visible_to(viewer_id: int | sa.BindParameter[int]):
    """A filter for events whose group content the viewer may see (permissions.can_see_content);
    the viewer may be a parameter of a statement built once."""
    mine = select(Membership.group_id).where(Membership.person_id == viewer_id)
    active = mine.where(Membership.status == MembershipStatus.ACTIVE)
    banned = mine.where(Membership.status == MembershipStatus.BANNED)
    return sa.and_(
        Event.group_id.not_in(banned),  # type: ignore[attr-defined]
        sa.or_(Group.visibility == Visibility.PUBLIC, Event.group_id.in_(active)),  # type: ignore[attr-defined]
    )


# /events and its cards, on every listing: built once with parameters
_UPCOMING = (
    select(Event, Group)
    .join(Group, Group.id == Event.group_id)  # type: ignore[arg-type]
    .where(Event.status == EventStatus.SCHEDULED, Event.starts_at > sa.bindparam("now"))
    .order_by(Event.starts_at, Event.id)
    .limit(sa.bindparam("limit"))
    .offset(sa.bindparam("offset"))
)
_UPCOMING_VISIBLE = _UPCOMING.where(visible_to(sa.bindparam("viewer")))
_UPCOMING_IN = _UPCOMING.where(Event.group_id == sa.bindparam("group_id"))
_PLACES = select(Registration).where(  # the viewer's places among these activities
    Registration.person_id == sa.bindparam("viewer"),
    Registration.event_id.in_(sa.bindparam("ids", expanding=True)),  # type: ignore[attr-defined]
    Registration.status.in_(LISTED),  # type: ignore[attr-defined]
)


async def views_for(
    uow: UnitOfWork, rows: list[tuple[Event, Group]], viewer_id: int
) -> list[EventView]:
    """Views of activities already loaded (with their groups), in the order given."""
    if not rows:
        return []
    ids = [e.id for e, _ in rows]
    params = {"viewer": viewer_id, "ids": ids}
    mine = {r.event_id: r for r in (await uow.session.exec(_PLACES, params=params)).all()}
    return [await _as_seen(uow, event, group, mine.get(event.id)) for event, group in rows]  # type: ignore[arg-type]


async def views_of(uow: UnitOfWork, ids: list[int], viewer_id: int) -> list[EventView]:
    """Views of the activities with these ids, in the order given: one query for the
    activities, their groups and the viewer's places (the hot path of /nearby)."""
    if not ids:
        return []
    found = {
        event.id: (event, group, registration)
        for event, group, registration in (
            await uow.session.exec(
                select(Event, Group, Registration)
                .join(Group, Group.id == Event.group_id)  # type: ignore[arg-type]
                .outerjoin(
                    Registration,
                    sa.and_(
                        Registration.event_id == Event.id,
                        Registration.person_id == viewer_id,
                        Registration.status.in_(LISTED),  # type: ignore[attr-defined]
                    ),
                )
                .where(Event.id.in_(ids))  # type: ignore[union-attr]
            )
        ).all()
    }
    return [await _as_seen(uow, *found[event_id]) for event_id in ids if event_id in found]


async def _as_seen(
    uow: UnitOfWork, event: Event, group: Group, registration: Registration | None
) -> EventView:
    """The view of an activity for someone whose active place (if any) is `registration`;
    every EventView is made here."""
    waiting = registration is not None and registration.status == RegistrationStatus.WAITLISTED
    return EventView(
        event=event,
        group=group,
        confirmed=event.going,
        waitlisted=event.waiting,
        viewer_status=registration.status if registration else None,
        viewer_position=await _position(uow, registration) if waiting else None,  # type: ignore[arg-type]
        viewer_guests=registration.guests if registration else 0,
        viewer_offer_until=registration.offer_until if registration else None,
        viewer_reminded=(
            registration is not None
            and registration.status == RegistrationStatus.MAYBE
            and registration.remind
        ),
    )


async def upcoming(
    uow: UnitOfWork,
    clock: Clock,
    viewer_id: int,
    ref: str | None = None,
    *,
    limit: int = 10,
    offset: int = 0,
) -> list[EventView]:
    """Scheduled activities that have not started, soonest first, that the viewer may see:
    `limit` of them after the first `offset`."""
    params: dict[str, Any] = {
        "now": clock.now(),
        "limit": limit,
        "offset": offset,
        "viewer": viewer_id,
    }
    statement = _UPCOMING_VISIBLE
    if ref:
        group = await find_group(uow, ref)
        permissions.require_content_access(group, await membership_of(uow, group.id, viewer_id))  # type: ignore[arg-type]
        statement, params["group_id"] = _UPCOMING_IN, group.id
    rows = (await uow.session.exec(statement, params=params)).all()
    return await views_for(uow, list(rows), viewer_id)


async def my_events(uow: UnitOfWork, clock: Clock, person_id: int) -> list[EventView]:
    statement = (
        select(Event, Group)
        .join(Group, Group.id == Event.group_id)  # type: ignore[arg-type]
        .join(Registration, Registration.event_id == Event.id)  # type: ignore[arg-type]
        .where(
            Registration.person_id == person_id,
            Registration.status.in_(LISTED),  # type: ignore[attr-defined]
            Event.status == EventStatus.SCHEDULED,
            Event.starts_at > clock.now(),
        )
        .order_by(Event.starts_at)
    )
    return await views_for(uow, list((await uow.session.exec(statement)).all()), person_id)


async def attendees(uow: UnitOfWork, viewer_id: int, event_id: int) -> Attendees:
    view = await get_event(uow, viewer_id, event_id)
    rows = (
        await uow.session.exec(
            select(Person.id, Person.display_name, Registration.status, Registration.guests)
            .join(Registration, Registration.person_id == Person.id)  # type: ignore[arg-type]
            .where(Registration.event_id == event_id, Registration.status.in_(LISTED))  # type: ignore[attr-defined]
            .order_by(Registration.seq)
        )
    ).all()
    platforms: dict[int, set[str]] = {person_id: set() for person_id, *_ in rows}
    if platforms:
        accounts = await uow.session.exec(
            select(Identity.person_id, Identity.platform).where(
                Identity.person_id.in_(list(platforms))  # type: ignore[attr-defined]
            )
        )
        for person_id, platform in accounts.all():
            platforms[person_id].add(platform)
    people = [
        Attendee(name, status, tuple(sorted(platforms[person_id])), guests)
        for person_id, name, status, guests in rows
    ]
    return Attendees(view=view, people=people)


async def organised_coming(uow: UnitOfWork, clock: Clock, person_id: int, group_id: int) -> int:
    """How many of a group's coming activities this person organises: what they can no longer
    change once they are not in the group (permissions.can_manage_event)."""
    mine = select(sa.func.count()).where(
        Event.group_id == group_id,
        Event.creator_id == person_id,
        Event.status == EventStatus.SCHEDULED,
        Event.starts_at > clock.now(),
    )
    return (await uow.session.exec(mine)).one()


async def leave_and_release(
    uow: UnitOfWork, clock: Clock, actor_id: int, ref: str
) -> tuple[Group, list[RosterChange]]:
    """Leave a group, in one transaction with giving up the seats of a private group's
    activities (no longer visible to them): nobody is left holding a seat they cannot see."""
    group = await groups.leave_group(uow, actor_id, ref)
    changes = []
    if group.visibility == Visibility.PRIVATE:
        changes = await _release_in_group(uow, clock, actor_id, group.id)  # type: ignore[arg-type]
    await uow.commit()
    return group, changes


async def ban_and_release(
    uow: UnitOfWork, clock: Clock, actor_id: int, ref: str, who: str
) -> tuple[Group, Person, list[RosterChange]]:
    """Ban someone and free their seats in the group's activities, in one transaction: a crash
    between the two can no longer leave a banned person holding seats."""
    group, person = await groups.ban_member(uow, actor_id, ref, who)
    changes = await _release_in_group(uow, clock, person.id, group.id)  # type: ignore[arg-type]
    await uow.commit()
    return group, person, changes


async def _release_in_group(
    uow: UnitOfWork, clock: Clock, person_id: int, group_id: int
) -> list[RosterChange]:
    """Give up someone's places in a group's upcoming activities (they were banned, or left a
    private group they can no longer see); each freed seat goes to the next person waiting.
    The caller commits."""
    now = clock.now()
    ids = (
        await uow.session.exec(
            select(Registration.event_id)
            .join(Event, Event.id == Registration.event_id)  # type: ignore[arg-type]
            .where(
                Registration.person_id == person_id,
                Registration.status.in_(LISTED),  # type: ignore[attr-defined]
                Event.group_id == group_id,
                Event.status == EventStatus.SCHEDULED,
                Event.starts_at > now,
            )
            .order_by(Registration.event_id)  # activities locked in one order by every writer
        )
    ).all()
    changes = []
    for event_id in ids:
        event = await _lock_event(uow, event_id)
        registration = await registration_of(uow, event_id, person_id)
        previous = registration.status  # type: ignore[union-attr]
        tallies.move_registration(event, registration, RegistrationStatus.CANCELLED, now)  # type: ignore[arg-type]
        uow.session.add(registration)
        await uow.session.flush()
        promoted = (
            await _promote(uow, event, now) if previous == RegistrationStatus.CONFIRMED else []
        )
        if promoted:
            await reminders.schedule_event(uow, event, now)
        await uow.session.flush()
        view = await _view(uow, event, person_id, mine=registration)
        changes.append(RosterChange(view, promoted, previous))
    return changes


#: When two merged accounts were both on one activity's roster, the better place is kept
#: (docs/cross-platform.md): a seat before an offer before the waitlist before a maybe; between
#: equals, the earlier arrival.
PLACE_RANK = {
    RegistrationStatus.CONFIRMED: 4,
    RegistrationStatus.OFFERED: 3,
    RegistrationStatus.WAITLISTED: 2,
    RegistrationStatus.MAYBE: 1,
    RegistrationStatus.CANCELLED: 0,
}


async def merge_registrations(
    uow: UnitOfWork, clock: Clock, kept: int, gone: int
) -> list[RosterChange]:
    """Before `gone`'s rows are handed to `kept` (core.services.linking): on each activity both
    were on, keep the better place and give up the other, its seat going to the next person
    waiting. The caller commits."""
    now = clock.now()
    theirs = (
        await uow.session.exec(
            select(Registration)
            .where(Registration.person_id == gone)
            .order_by(Registration.event_id)  # activities locked in one order by every writer
        )
    ).all()
    changes = []
    for other in theirs:
        mine = await registration_of(uow, other.event_id, kept)
        if mine is None:
            continue  # simply handed over
        event = await _lock_event(uow, other.event_id)
        better, worse = sorted(
            (mine, other), key=lambda r: (-PLACE_RANK[RegistrationStatus(r.status)], r.seq)
        )
        previous = worse.status
        tallies.move_registration(event, worse, RegistrationStatus.CANCELLED, now)
        promoted = []
        if previous == RegistrationStatus.CONFIRMED:
            await uow.session.flush()
            promoted = await _promote(uow, event, now)
        await uow.session.delete(worse)
        await uow.session.flush()
        if worse is mine:  # their row, the better one, becomes kept's after the hand-over
            better.person_id = kept
            uow.session.add(better)
            await uow.session.flush()
        if promoted:
            await reminders.schedule_event(uow, event, now)
        uow.activity_changed(event.id)  # type: ignore[arg-type]
        view = await _view(uow, event, kept, mine=better)
        changes.append(RosterChange(view, promoted, previous))
    return changes
