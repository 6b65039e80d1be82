"""Recurring activities: weekly, every two weeks, monthly (by date or by weekday), with an end.

`/repeat 3 weekly times 8` turns activity #3 into the first occurrence of a series. The rule is
an RFC 5545 RRULE, expanded with python-dateutil over the *wall time* in the group's zone, then
placed in the zone: a weekly 19:00 stays 19:00 across a DST change (a wall time the clocks skip
moves an hour later). Each occurrence is an ordinary activity, copied from the latest one (so an
edit of the whole series carries on), with its own roster, card and reminders, announced in the
group's home chats as it is made, like any new activity. Occurrences exist
HORIZON ahead, and at least two (so the one after next is known); a durable "series" job
(core.work) makes more as time passes, on whichever process is alive, and never the same one
twice (one per series and start).

People may sign up for the whole series: they are put on every future occurrence, those made
later included, as anyone signing up would be (a seat, or the waitlist).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import MONTHLY, WEEKLY, rrule, rrulestr, weekday
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from core import work
from core.clock import Clock
from core.errors import conflict, invalid, not_found
from core.i18n import N_
from core.models import Event, EventStatus, Registration, Series, SeriesMember
from core.parsing import parse_local_end
from core.services import chats, events, reminders
from core.services.events import EditResult, SignupResult
from core.uow import UnitOfWork
from core.validation import is_id

SERIES = "series"  # the job kind
HORIZON = timedelta(weeks=4)
CHECK_EVERY = timedelta(hours=12)
MAX_OCCURRENCES = 200
KINDS = ("weekly", "biweekly", "monthly", "monthly-weekday")
COPIED = (
    "group_id",
    "creator_id",
    "title",
    "description",
    "timezone",
    "place",
    "latitude",
    "longitude",
    "fee_cents",
    "fee_currency",
    "capacity",
    "max_guests",
    "offer_seconds",
    "reminder_offsets",
)


def rule_for(kind: str, first: datetime, *, count: int | None, until: datetime | None) -> str:
    """The RRULE text for a kind of repetition starting at the wall time `first`."""
    if kind not in KINDS:
        raise invalid(
            "series_kind",
            N_("Repeat weekly, biweekly, monthly or monthly-weekday."),
        )
    if count is not None and not 2 <= count <= MAX_OCCURRENCES:
        raise invalid(
            "series_count", N_("A series has 2 to {max} occurrences."), max=MAX_OCCURRENCES
        )
    options: dict = {"dtstart": first, "count": count, "until": until}
    if kind == "weekly":
        made = rrule(WEEKLY, **options)
    elif kind == "biweekly":
        made = rrule(WEEKLY, interval=2, **options)
    elif kind == "monthly":
        made = rrule(MONTHLY, bymonthday=first.day, **options)
    else:  # the same weekday of the month: "the second Saturday"
        nth = (first.day - 1) // 7 + 1
        made = rrule(MONTHLY, byweekday=weekday(first.weekday(), nth), **options)
    return str(made).split("\n", 1)[1].removeprefix("RRULE:")


def starts(series: Series, after: datetime, before: datetime) -> list[datetime]:
    """The series' starts in (after, before], as aware datetimes in its zone."""
    zone = ZoneInfo(series.timezone)
    rule = rrulestr(series.rule, dtstart=series.starts_local)
    local_after = after.astimezone(zone).replace(tzinfo=None) - timedelta(days=1)
    found = []
    for wall in rule.xafter(local_after, inc=True):
        aware = _place(wall, zone)
        if aware > before:
            break
        if aware > after:
            found.append(aware)
    return found


def _place(wall: datetime, zone: ZoneInfo) -> datetime:
    """A wall time in the zone; one the clocks skip (the DST gap) moves an hour later."""
    aware = wall.replace(tzinfo=zone)
    if aware.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None) != wall:
        aware = (wall + timedelta(hours=1)).replace(tzinfo=zone)
    return aware


@dataclass(frozen=True)
class Made:
    series: Series
    created: list[int]  # occurrences made now
    count: int | None = None  # how many in all, if the series ends so
    until: datetime | None = None  # the wall time it ends by (in its zone), if it ends so


async def repeat(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    event_id: int,
    kind: str,
    *,
    count: int | None = None,
    until: str | None = None,
) -> Made:
    """Make activity `event_id` the first occurrence of a series (its organiser or an admin)."""
    event = await events.managed_event(uow, actor_id, event_id)
    if event.series_id is not None:
        raise conflict("already_series", N_("This activity already repeats."))
    _require_coming(event, clock.now())
    zone = ZoneInfo(event.timezone)
    first = event.starts_at.astimezone(zone).replace(tzinfo=None)
    end = None
    if until:
        end = parse_local_end(until, event.timezone, clock.now()).replace(tzinfo=None)
        if end <= first:
            raise invalid("series_until", N_("The series must end after its first occurrence."))
    series = Series(
        group_id=event.group_id,
        creator_id=actor_id,
        rule=rule_for(kind, first, count=count, until=end),
        starts_local=first,
        timezone=event.timezone,
        created_at=clock.now(),
    )
    uow.session.add(series)
    await uow.session.flush()
    event.series_id = series.id
    uow.session.add(event)
    uow.activity_changed(event_id)  # its posted cards get 🔁 Every time
    await uow.commit()
    created = await extend(uow, clock, series.id)  # type: ignore[arg-type]
    return Made(series, created, count=count, until=end)


def _require_coming(event: Event, now: datetime) -> None:
    """A series starts from a coming activity: a cancelled one would make live copies of an
    activity called off, a started one occurrences already past."""
    if event.status == EventStatus.CANCELLED:
        raise conflict("event_cancelled", N_("This activity was cancelled."))
    if event.starts_at <= now:
        raise conflict(
            "event_started",
            N_("This activity has already started: repeat a coming one (/newevent makes it)."),
        )


async def _occurrences(uow: UnitOfWork, series_id: int) -> list[Event]:
    rows = await uow.session.exec(
        select(Event).where(Event.series_id == series_id).order_by(Event.starts_at)
    )
    return list(rows.all())


async def extend(
    uow: UnitOfWork, clock: Clock, series_id: int, *, reschedule: bool = True
) -> list[int]:
    """Make the occurrences due HORIZON ahead (at least the next one), put the series' members
    on every future one, and ask to be woken again (the worker, already holding the job, moves
    it on itself). Safe to run twice, or on two processes: an occurrence is one row per series
    and start. Commits as it goes."""
    now = clock.now()
    series = await _locked(uow, series_id)
    if series is None or series.cancelled:
        return []
    existing = await _occurrences(uow, series_id)
    template = existing[-1]
    wanted = starts(series, template.starts_at, now + HORIZON)
    if not wanted and sum(1 for e in existing if e.starts_at > now) < 2:  # one beyond the next
        wanted = starts(series, template.starts_at, template.starts_at + timedelta(days=400))[:1]
    created = []
    for start in wanted:
        made = await _copy(uow, clock, template, start)
        if made is not None:
            created.append(made.id)
            template = made
    await _sign_up_members(uow, clock, series_id)
    if reschedule:
        await work.schedule(uow, SERIES, str(series_id), now + CHECK_EVERY)
    await uow.commit()
    return created  # type: ignore[return-value]


async def _copy(uow: UnitOfWork, clock: Clock, template: Event, start: datetime) -> Event | None:
    event = Event(**{name: getattr(template, name) for name in COPIED})
    event.starts_at = start
    event.series_id = template.series_id
    event.created_at = clock.now()
    if template.signup_deadline is not None:
        event.signup_deadline = start - (template.starts_at - template.signup_deadline)
    try:
        async with uow.session.begin_nested():
            uow.session.add(event)
    except IntegrityError:  # another process made this one first
        return None
    uow.changes.listings = True
    await reminders.schedule_event(uow, event, clock.now())
    await events.mirror(uow, event)
    await chats.announce(uow, "event", event.id, event.group_id)  # type: ignore[arg-type]
    await uow.commit()
    return event


async def _locked(uow: UnitOfWork, series_id: int) -> Series | None:
    """The series, locked until the transaction ends (PostgreSQL): a change to all its coming
    occurrences and the worker making more (`extend`) take turns, so no occurrence is made
    from the old template while the change runs, nor escapes a cancellation."""
    locked = select(Series).where(Series.id == series_id).with_for_update()
    return (await uow.session.exec(locked)).first()


async def _coming(uow: UnitOfWork, series_id: int, now: datetime) -> list[Event]:
    """The coming occurrences in the order every writer locks activities (by id)."""
    return sorted(await _future(uow, series_id, now), key=lambda event: event.id)  # type: ignore[arg-type,return-value]


async def _future(uow: UnitOfWork, series_id: int, now: datetime) -> list[Event]:
    return [
        e
        for e in await _occurrences(uow, series_id)
        if e.starts_at > now and e.status == EventStatus.SCHEDULED
    ]


async def _sign_up_members(uow: UnitOfWork, clock: Clock, series_id: int) -> None:
    members = (
        await uow.session.exec(
            select(SeriesMember.person_id).where(SeriesMember.series_id == series_id)
        )
    ).all()
    for event in await _future(uow, series_id, clock.now()):
        on = set(
            (
                await uow.session.exec(
                    select(Registration.person_id).where(Registration.event_id == event.id)
                )
            ).all()
        )
        for person_id in members:
            if person_id not in on:  # someone who cancelled one occurrence stays cancelled
                await events.sign_up(uow, clock, person_id, event.id)  # type: ignore[arg-type]


def _require_live(series: Series | None) -> Series:
    """The series, unless it was cancelled: a cancelled one takes no sign-ups or changes, and
    is not cancelled twice."""
    if series is None or series.cancelled:
        raise conflict("series_cancelled", N_("This series was cancelled."))
    return series


@dataclass(frozen=True)
class Joined:
    series: Series
    results: list[SignupResult]  # one per coming occurrence
    was_member: bool  # signed up for the series before

    @property
    def seats(self) -> int:
        """The coming occurrences where the person has a seat, taken now or before."""
        return sum(1 for r in self.results if r.status in ("confirmed", "already_confirmed"))

    @property
    def already(self) -> bool:
        """Nothing changed: signed up for the series before, with a place on every coming
        occurrence."""
        return self.was_member and all(r.status.startswith("already_") for r in self.results)


async def join(uow: UnitOfWork, clock: Clock, actor_id: int, event_id: int) -> Joined:
    """Sign the person up for every future occurrence, and for those made later."""
    view = await events.get_event(uow, actor_id, event_id)
    if view.event.series_id is None:
        raise invalid("not_a_series", N_("This activity does not repeat."))
    series = _require_live(await uow.session.get(Series, view.event.series_id))
    already = (
        await uow.session.exec(
            select(SeriesMember).where(
                SeriesMember.series_id == series.id, SeriesMember.person_id == actor_id
            )
        )
    ).first()
    if already is None:
        uow.session.add(SeriesMember(series_id=series.id, person_id=actor_id))  # type: ignore[arg-type]
        await uow.commit()
    results = []
    for event in await _future(uow, series.id, clock.now()):  # type: ignore[arg-type]
        results.append(await events.sign_up(uow, clock, actor_id, event.id))  # type: ignore[arg-type]
    return Joined(series, results, was_member=already is not None)


async def leave(uow: UnitOfWork, actor_id: int, event_id: int) -> None:
    """No more automatic sign-ups; places already taken stay (cancel them one by one)."""
    event = await uow.session.get(Event, event_id) if is_id(event_id) else None
    if event is None:
        raise not_found("event", id=event_id)
    if event.series_id is None:
        raise invalid("not_a_series", N_("This activity does not repeat."))
    member = (
        await uow.session.exec(
            select(SeriesMember).where(
                SeriesMember.series_id == event.series_id, SeriesMember.person_id == actor_id
            )
        )
    ).first()
    if member is None:
        raise conflict("not_in_series", N_("You're not signed up for this series."))
    await uow.session.delete(member)
    await uow.commit()


async def cancel(uow: UnitOfWork, clock: Clock, actor_id: int, event_id: int) -> list[EditResult]:
    """Cancel the series: every future occurrence, each as /cancelevent would, in one
    transaction; the people on their rosters are told once, with their dates. Past ones stay
    as they were."""
    event = await events.managed_event(uow, actor_id, event_id)
    if event.series_id is None:
        raise invalid("not_a_series", N_("This activity does not repeat."))
    series = _require_live(await _locked(uow, event.series_id))
    series.cancelled = True
    uow.session.add(series)
    results = [
        await events.cancel_event(uow, clock, actor_id, occurrence.id, in_series=True)  # type: ignore[arg-type]
        for occurrence in await _coming(uow, event.series_id, clock.now())
    ]
    await _told(uow, event.series_id, results, actor_id)
    return results


async def _told(uow: UnitOfWork, series_id: int, results: list[EditResult], actor_id: int) -> None:
    """Commit a change to a series' occurrences with the news of the ones whose time or place
    it changed (a cancellation, a new place or fee), told once per person (events.tell_series)."""
    told = [
        result.view.event.id
        for result in results
        if {"status", *events.TOLD_FIELDS} & set(result.changed)
    ]
    await events.tell_series(uow, series_id, told, [actor_id])  # type: ignore[arg-type]
    await uow.commit()


async def edit(
    uow: UnitOfWork, clock: Clock, actor_id: int, event_id: int, changes: dict
) -> list[EditResult]:
    """The same change on every future occurrence (and so on those made later), in one
    transaction; the people on their rosters are told of a new place once, with their dates."""
    event = await events.managed_event(uow, actor_id, event_id)
    if event.series_id is None:
        raise invalid("not_a_series", N_("This activity does not repeat."))
    if "starts_at" in changes or "signup_deadline" in changes:
        raise invalid(
            "series_time",
            N_("Times change per occurrence (/editevent); a new time is a new series."),
        )
    _require_live(await _locked(uow, event.series_id))
    results = [
        await events.edit_event(uow, clock, actor_id, occurrence.id, in_series=True, **changes)  # type: ignore[arg-type]
        for occurrence in await _coming(uow, event.series_id, clock.now())
    ]
    await _told(uow, event.series_id, results, actor_id)
    return results
