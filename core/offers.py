"""Timed waitlist offers (an activity setting, `/editevent <id> offers 2h`): a freed seat is
offered to the first party waiting, held for them until a deadline, with Accept / Pass.

Each offer is a durable "offer" job (core.work), written in the transaction that made the offer,
and done by whichever process is alive: first it tells the person (at most once: the step is
recorded before the message goes out; a lost message still leaves the offer on their card), then
it wakes at the deadline and, if the seat was neither taken nor passed, gives it to the next
party waiting. Restarts lose nothing: the rows are the truth.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import select

from core import livecards, work
from core.actions import Act, act
from core.cards import Button, Card, Notice, bold, italic, moment, plain
from core.i18n import Translator
from core.models import Event, Job, Registration, RegistrationStatus
from core.notify import deliver
from core.services import events
from core.services.events import OFFER
from core.uow import UnitOfWork
from core.views import event_card, format_time

if TYPE_CHECKING:
    from core.chat.registry import Services

TOLD = "told"  # the job's payload once the person was told of the offer


def _seat_held(event: Event, t: Translator) -> Card:
    return (
        Card()
        .add(bold(t("🎟 A seat opened up for you: ")), bold(event.title), plain(f"  #{event.id}"))
        .add(plain("🕒 "), moment(format_time(event.starts_at, event.timezone, t), event.starts_at))
        .add(plain("📍 "), plain(event.place))
    )


def offer_said_in_public(event: Event, until: datetime, t: Translator) -> Card:
    """The offer as a group chat's mention says it: no Accept there (anyone could press it),
    so how to take it: the Sign up of the activity's card, or /signup."""
    return _seat_held(event, t).add(
        italic(t("It's held for you until ")),
        moment(format_time(until, event.timezone, t), until),
        italic(
            t(": to take it, tap ✅ Sign up on its card or send /signup {number}.", number=event.id)
        ),
    )


def expired_card(event: Event, t: Translator) -> Card:
    """What someone whose held seat ran out hears: the seat is no longer theirs and they are
    off the waitlist (whether anyone was next to take it is not theirs to know)."""
    return (
        Card()
        .add(
            plain(t("The time to take the seat held for you at ")),
            bold(event.title),
            plain(t(" ran out, and you left its waitlist.")),
        )
        .add(italic(t("Sign up again to wait for the next free seat.")))
        .row(Button(t("✅ Sign up"), act(Act.SIGN_UP, event.id)))  # type: ignore[arg-type]
    )


async def _offer_notice(
    uow: UnitOfWork, person_id: int, event: Event, now: datetime
) -> Notice | None:
    """The offer: the activity's card as its reader sees it while the seat is held for them
    (its news on top, the deadline, Accept and Pass), a live copy, so once the seat is taken,
    passed on or runs out, the refresher redraws it without them."""
    _, views = await events.views_for_readers(uow, event.id, [person_id])  # type: ignore[arg-type]
    view = views.get(person_id)
    if view is None or view.viewer_offer_until is None:  # no longer theirs to see, or to take
        return None
    until = view.viewer_offer_until
    return Notice(
        person_id,
        lambda t: event_card(view, t, personal=True, now=now),
        home_of=event.group_id,
        in_public=lambda t: offer_said_in_public(event, until, t),
    )


class OfferWorker(work.Worker):
    kind = OFFER

    def __init__(self, services: Services, **options) -> None:
        super().__init__(services.db, services.clock, **options)
        self.services = services

    async def process(self, rows: list[Job]) -> int:
        done = 0
        for job in rows:
            done += await self._step(job)
        return done

    async def _tell(self, person_id: int, event: Event, now: datetime) -> None:
        async with self.db.uow(readonly=True) as uow:
            notice = await _offer_notice(uow, person_id, event, now)
        if notice is None:
            return
        for posted in await deliver(self.db, self.services.notifiers, [notice]):
            await livecards.remember(self.services, posted)

    async def _step(self, job: Job) -> int:
        now = self.clock.now()
        async with self.db.uow(readonly=True) as uow:
            found = (
                await uow.session.exec(
                    select(Registration, Event)
                    .join(Event, Event.id == Registration.event_id)  # type: ignore[arg-type]
                    .where(Registration.id == int(job.key))
                )
            ).first()
        registration, event = found if found else (None, None)
        live = registration is not None and registration.status == RegistrationStatus.OFFERED
        if not live or registration.offer_until is None:  # type: ignore[union-attr]
            async with self.db.uow() as uow:
                await work.finish(uow, job, self.worker, now)
            return 0
        until = registration.offer_until  # type: ignore[union-attr]
        if now < until:
            async with self.db.uow() as uow:  # the next step is the deadline; told first
                await work.defer(uow, job, self.worker, until, TOLD)
            if job.payload != TOLD:
                await self._tell(registration.person_id, event, now)  # type: ignore[union-attr,arg-type]
            return 1
        async with self.db.uow() as uow:
            change = await events.expire_offer(uow, registration.id, now)  # type: ignore[union-attr,arg-type]
        async with self.db.uow() as uow:
            await work.finish(uow, job, self.worker, now)
        if change is not None:
            notice = Notice(registration.person_id, lambda t: expired_card(event, t))  # type: ignore[union-attr,arg-type]
            await deliver(self.db, self.services.notifiers, [notice])
        return 1
