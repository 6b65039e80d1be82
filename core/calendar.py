"""Calendar files: an activity as an iCalendar entry (the card's "Add to calendar"), and a
person's feed of what they signed up for (`/calendar`, served by the bot's web server).

Built with the `icalendar` library. The UID is stable per activity, so importing the file again
updates the entry instead of adding a second; SEQUENCE rises with every change of time, place,
title or details (`Event.sequence`), and a cancelled activity is STATUS:CANCELLED, which
calendars show struck through or remove. Times are in the group's zone with its VTIMEZONE, so a
calendar far away still shows the right instant. Activities have no end time: entries last
DURATION (documented in docs/organisers.md).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar
from icalendar import Event as Entry
from sqlmodel import select

from core.models import Event, EventStatus, Group, Person, Registration, RegistrationStatus
from core.uow import UnitOfWork

DURATION = timedelta(hours=2)
DOMAIN = "community-bot"  # the right-hand side of every UID
PRODID = "-//Community bot//Activities//EN"
FEED_DAYS_BACK = 30  # past activities kept in a feed, so a calendar does not drop them at once


def uid(event: Event) -> str:
    return f"activity-{event.id}@{DOMAIN}"


def _entry(event: Event, group: Group | None, now: datetime) -> Entry:
    entry = Entry()
    zone = ZoneInfo(event.timezone)
    start = event.starts_at.astimezone(zone)
    entry.add("uid", uid(event))
    entry.add("dtstamp", now)
    entry.add("dtstart", start)
    entry.add("dtend", start + DURATION)
    entry.add("summary", event.title)
    entry.add("location", event.place)
    about = [event.description or "", f"{group.name} · #{event.id}" if group else f"#{event.id}"]
    entry.add("description", "\n".join(part for part in about if part))
    entry.add("sequence", event.sequence)
    cancelled = event.status == EventStatus.CANCELLED
    entry.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if event.latitude is not None and event.longitude is not None:
        entry.add("geo", (event.latitude, event.longitude))
    return entry


def calendar_of(entries: list[tuple[Event, Group | None]], now: datetime, name: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    for event, group in entries:
        calendar.add_component(_entry(event, group, now))
    calendar.add_missing_timezones()
    return calendar.to_ical()


def file_name(event: Event) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", event.title.lower()).strip("-")[:40] or "activity"
    return f"{slug}-{event.id}.ics"


async def activity_file(uow: UnitOfWork, event: Event, now: datetime) -> bytes:
    group = await uow.session.get(Group, event.group_id)
    return calendar_of([(event, group)], now, event.title)


# ---- the personal feed ---------------------------------------------------------------------


def new_token() -> str:
    return secrets.token_urlsafe(24)


async def feed_token(uow: UnitOfWork, person_id: int, *, reset: bool = False) -> str:
    """The person's feed secret; a reset makes the old URL stop working."""
    person = await uow.session.get(Person, person_id)
    assert person is not None
    if reset or person.calendar_token is None:
        person.calendar_token = new_token()
        uow.session.add(person)
        await uow.commit()
    return person.calendar_token  # type: ignore[return-value]


async def feed(uow: UnitOfWork, token: str, now: datetime) -> bytes | None:
    """What the person holding this token signed up for (seats, offers, the waitlist, maybes),
    upcoming and of the last FEED_DAYS_BACK days; None for an unknown token."""
    if not token or len(token) > 64:
        return None
    person = (await uow.session.exec(select(Person).where(Person.calendar_token == token))).first()
    if person is None:
        return None
    rows = await uow.session.exec(
        select(Event, Group)
        .join(Registration, Registration.event_id == Event.id)  # type: ignore[arg-type]
        .join(Group, Group.id == Event.group_id)  # type: ignore[arg-type]
        .where(
            Registration.person_id == person.id,
            Registration.status != RegistrationStatus.CANCELLED,
            Event.starts_at > now - timedelta(days=FEED_DAYS_BACK),
        )
        .order_by(Event.starts_at)
    )
    return calendar_of(list(rows.all()), now, person.display_name)
