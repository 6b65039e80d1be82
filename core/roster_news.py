"""Telling the people on an activity's roster that it moved or was cancelled.

A cancellation, and an edit of the time, the place or the fee, schedule a "news" job (core.work) for
each person on the roster in the same transaction as the change
(`core.services.events._tell_roster`), so the duty to tell cannot be lost between the commit
and the send, as it could while the notices lived in the committing process's memory. The
notice worker (core.notices) tells them.

The notice says what stands when it is sent, not what the job was asked for: two edits before
the first was told make one notice with the latest time and place, and an activity cancelled
after it was moved is told as cancelled. Nobody is told who left the roster meanwhile, nor of
an activity that has started.

A change to a whole series (/editseries, /cancelseries) is told once per person, with each of
their coming dates ("series-news" jobs keyed "series:person"), not once per occurrence; news
of one of those occurrences still waiting to be told goes out in it, not apart.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from core.cards import Card, Notice, Span, bold, italic, moment, plain
from core.i18n import Translator
from core.models import Event, EventStatus, Job, Registration, Series
from core.services.events import LISTED, registration_of
from core.uow import UnitOfWork
from core.views import event_fee, format_time


def change_card(event: Event, t: Translator) -> Card:
    return (
        Card()
        .add(bold(t("Activity changed: ")), bold(event.title))
        .add(*_when(event, t))
        .add(plain("📍 "), plain(event.place))
        .add(plain("💶 "), plain(event_fee(event, t)))
    )


def _cancelled_head(event: Event, t: Translator) -> Card:
    return (
        Card()
        .add(bold(t("Cancelled: ")), bold(event.title))
        .add(italic(t("The organizer cancelled this activity.")))
    )


def cancelled_card(event: Event, t: Translator) -> Card:
    """Which date was called off, too: every occurrence of a series has the same title."""
    return _cancelled_head(event, t).add(*_when(event, t))


async def told_of_change(uow: UnitOfWork, job: Job, now: datetime) -> Notice | None:
    """The notice for a "news" job (key "activity:person"), if it is still news to them."""
    event_id, person_id = (int(part) for part in job.key.split(":"))
    event = await uow.session.get(Event, event_id)
    registration = await registration_of(uow, event_id, person_id)
    if event is None or registration is None or registration.status not in LISTED:
        return None
    if event.starts_at <= now:
        return None
    card = cancelled_card if event.status == EventStatus.CANCELLED else change_card
    return Notice(person_id, lambda t: card(event, t))


async def told_of_series(uow: UnitOfWork, job: Job, now: datetime) -> Notice | None:
    """The notice for a "series-news" job (key "series:person", payload the activities the
    change made): the person's coming dates among them, with the series' new place, or
    cancelled with it; nothing when none of them is left to them."""
    series_id, person_id = (int(part) for part in job.key.split(":"))
    theirs = select(Event).join(Registration, Registration.event_id == Event.id)
    if job.payload:  # without one (asked before payloads were kept): every coming date
        changed = [int(part) for part in job.payload.split(",")]
        theirs = theirs.where(Event.id.in_(changed))  # type: ignore[union-attr]
    coming = theirs.where(
        Event.series_id == series_id,
        Event.starts_at > now,
        Registration.person_id == person_id,
        Registration.status.in_(LISTED),  # type: ignore[attr-defined]
    )
    dates = (await uow.session.exec(coming.order_by(Event.starts_at))).all()
    series = await uow.session.get(Series, series_id)
    cancelled = series is None or series.cancelled
    wanted = EventStatus.CANCELLED if cancelled else EventStatus.SCHEDULED
    dates = [event for event in dates if event.status == wanted]
    if not dates:
        return None
    return Notice(person_id, lambda t: _series_card(dates, cancelled, t))


def _series_card(dates: list[Event], cancelled: bool, t: Translator) -> Card:
    """The person's dates, each once. A place or a fee shared by all of them is said once at
    the top; where dates differ (one occurrence moved on its own), each date says its own."""
    first = dates[0]
    places = {event.place for event in dates}
    fees = {event_fee(event, t) for event in dates}
    if cancelled:
        card = _cancelled_head(first, t)
    else:
        card = Card().add(bold(t("Activity changed: ")), bold(first.title))
        if len(places) == 1:
            card.add(plain("📍 "), plain(first.place))
        if len(fees) == 1:
            card.add(plain("💶 "), plain(event_fee(first, t)))
    for event in dates:
        line = _when(event, t)
        if not cancelled and len(places) > 1:
            line += [plain(" · 📍 "), plain(event.place)]
        if not cancelled and len(fees) > 1:
            line.append(plain(" · 💶 " + event_fee(event, t)))
        card.add(*line)
    return card


def _when(event: Event, t: Translator) -> list[Span]:
    """The start as a moment: each reader's own time where the platform shows one (Discord),
    the activity's zone in words elsewhere, as on its card."""
    return [plain("🕒 "), moment(format_time(event.starts_at, event.timezone, t), event.starts_at)]
