"""Telling people that the waitlist moved them into a seat ("a seat opened up and you're in").

Every path that promotes someone (a cancellation, a leave or ban, a capacity raised, a merge of
accounts, an expired offer, an edit of a series) goes through one function
(`core.services.events._promote`), which schedules a durable "promoted" job (core.work) for the
registration in the same transaction. So the notice cannot be lost between the commit and the
send, as it could while it lived in the committing process's memory: a process killed there
leaves the job, and whichever process is alive tells the person.

The notice worker (core.notices) tells them. The card redraws (core.livecards) show the seat
on every copy. Nobody is told of a seat they gave up before the job ran, of a seat they took by
signing up anew (the job carries the promoted sign-up's `seq`), or for an activity cancelled
or started meanwhile.
"""

from __future__ import annotations

from datetime import datetime

from core.actions import Act
from core.cards import Card, Notice, bold, moment, plain
from core.errors import DomainError
from core.i18n import Translator
from core.models import EventStatus, Job, Registration, RegistrationStatus
from core.services import events
from core.services.events import EventView
from core.uow import UnitOfWork
from core.views import event_buttons, format_time


def promotion_card(view: EventView, t: Translator) -> Card:
    """The news, in the person's language, with what they may do next (cancel, see who goes)."""
    event = view.event
    return (
        Card()
        .add(bold(t("Good news: a seat opened up and you're in!")))
        .add(bold(event.title), plain(f"  #{event.id}"))
        .add(plain("🕒 "), moment(format_time(event.starts_at, event.timezone, t), event.starts_at))
        .add(plain("📍 "), plain(event.place))
        .row(
            *[
                button
                for button in event_buttons(view, t)
                if button.action and button.action.act in (Act.CANCEL_SIGNUP, Act.WHO)
            ]
        )
    )


async def told_of_seat(uow: UnitOfWork, job: Job, now: datetime) -> Notice | None:
    """The notice for a "promoted" job (key: the registration), if the person still holds the
    seat they were promoted to (not one they gave up, nor a later sign-up's: it has a later
    `seq`), for an activity still on and ahead."""
    registration = await uow.session.get(Registration, int(job.key))
    if (
        registration is None
        or registration.status != RegistrationStatus.CONFIRMED
        or job.payload != str(registration.seq)
    ):
        return None
    person = registration.person_id
    try:
        view = await events.get_event(uow, person, registration.event_id)
    except DomainError:  # gone, or no longer theirs to see
        return None
    event = view.event
    if event.status != EventStatus.SCHEDULED or event.starts_at <= now:
        return None
    return Notice(person, lambda t: promotion_card(view, t), home_of=view.event.group_id)
