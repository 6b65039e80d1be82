"""Telling people that the waitlist moved them into a seat ("a seat opened up and you're in").

Every path that promotes someone (a cancellation, a leave or ban, a capacity raised, a merge of
accounts, an expired offer, an edit of a series) goes through one function
(`core.services.events._promote`), which schedules a durable "promoted" job (core.work) for the
registration in the same transaction. So the notice cannot be lost between the commit and the
send, as it could while it lived in the committing process's memory: a process killed there
leaves the job, and whichever process is alive tells the person.

The job is finished before the message goes out (at most once, like a timed offer's first
step, core.offers), and only by the worker whose claim it still was: a process killed between
the two loses that one notice, where sending first would tell the person twice. The card
redraws (core.livecards) still show the seat on every copy. Nobody is told of a seat they gave
up before the job ran, of a seat they took by signing up anew (the job carries the promoted
sign-up's `seq`), or for an activity cancelled or started meanwhile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core import work
from core.actions import Act
from core.cards import Card, Notice, bold, moment, plain
from core.errors import DomainError
from core.i18n import Translator
from core.models import EventStatus, Job, Registration, RegistrationStatus
from core.notify import deliver
from core.services import events
from core.services.events import PROMOTED, EventView
from core.uow import Changes
from core.views import event_buttons, format_time

if TYPE_CHECKING:
    from core.chat.registry import Services


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


class PromotionWorker(work.Worker):
    kind = PROMOTED

    def __init__(self, services: Services, **options) -> None:
        super().__init__(services.db, services.clock, **options)
        self.services = services

    def _changed(self, changes: Changes) -> None:
        """A run started by a commit of this process tells people what that action did: it is
        one of the action's follow-ups (`Services.settle()` waits for it, as for the notices
        the action sent itself; the console prints it before its next prompt)."""
        super()._changed(changes)
        if self.wakes_on(changes) and self._poked is not None and not self._poked.done():
            self.services.follow(self._poked)

    async def process(self, rows: list[Job]) -> int:
        told = 0
        for job in rows:  # each one finished, then sent: a kill loses at most the one in hand
            notice = await self._finish(job)
            if notice is not None:
                await deliver(self.db, self.services.notifiers, [notice])
                told += 1
        return told

    async def _finish(self, job: Job) -> Notice | None:
        """Mark the job done; the notice to send if the person still holds the seat they were
        promoted to (not one they gave up, nor a later sign-up's: it has a later `seq`), for an
        activity still on and ahead, and if the claim was still this worker's to finish."""
        now = self.clock.now()
        view = person = None
        async with self.db.uow() as uow:
            registration = await uow.session.get(Registration, int(job.key))
            if (
                registration is not None
                and registration.status == RegistrationStatus.CONFIRMED
                and job.payload == str(registration.seq)
            ):
                person = registration.person_id
                try:
                    view = await events.get_event(uow, person, registration.event_id)
                except DomainError:  # gone, or no longer theirs to see
                    view = None
            if not await work.finish(uow, job, self.worker, now):
                return None  # another process took the claim over: it tells them
        if view is None or person is None:
            return None
        event = view.event
        if event.status != EventStatus.SCHEDULED or event.starts_at <= now:
            return None
        return Notice(person, lambda t, view=view: promotion_card(view, t))
