"""The reminder runner: APScheduler is only the alarm clock; the database is the truth.

At start-up the runner fires whatever came due while the process was down (late if the activity
has not started, skipped and logged if it has), then arms for the next due row. Commits that
change reminder rows poke it; a slow periodic tick picks up rows written by other processes.
Each due row is claimed with a short lease renewed while this process lives (core.work), and
each delivery recorded before sending, so several processes on one database never send a
reminder twice and a killed process's reminders move on within seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from core.cards import SLOT, Card, moment, slotted
from core.chat.registry import Services
from core.i18n import Translator
from core.metrics import REMINDERS, REMINDERS_DUE
from core.models import DeliveryStatus, Event, Reminder, ReminderStatus
from core.notify import MENTIONS_PER_MESSAGE, DeliveryFailed, Missed, mention_in_home_chat
from core.services import reminders
from core.services.reminders import Firing, Recipient
from core.uow import Changes
from core.views import format_time, reminder_card
from core.work import Worker

log = logging.getLogger(__name__)
LATE = timedelta(minutes=1)  # a reminder sent this long after its time counts as late


class ReminderRunner(Worker):
    """Reminders on the durable-work mechanism (core.work): claimed rows, short renewed
    leases, one alarm clock. Reminders fire one at a time and their messages go out one by
    one, so at a crash at most one send is in flight (see docs/architecture.md)."""

    model = Reminder

    def __init__(self, services: Services, **options: Any) -> None:
        super().__init__(services.db, services.clock, **options)
        self.services = services

    def wakes_on(self, changes: Changes) -> bool:
        return changes.reminders

    async def process(self, rows: list[Reminder]) -> int:
        REMINDERS_DUE.set(len(rows))
        sent = 0
        for reminder in rows:
            sent += await self.fire(reminder.id)  # type: ignore[arg-type]
        return sent

    async def fire(self, reminder_id: int) -> int:
        db, clock = self.services.db, self.services.clock
        async with db.uow() as uow:
            firing = await reminders.prepare(
                uow, reminder_id, clock.now(), frozenset(self.services.notifiers)
            )
        if firing.outcome == "skipped":
            REMINDERS.labels("skipped").inc()
            log.warning(
                "reminder %s of activity %s skipped: the activity had already started",
                reminder_id,
                firing.reminder.event_id,
            )
        if firing.outcome != "fire":
            return 0
        sent = 0
        missed: list[tuple[int, str | None, str | None, Recipient]] = []
        for recipient in firing.recipients:
            async with db.uow() as uow:
                delivery_id = await reminders.record(
                    uow,
                    firing,
                    recipient.person.id,
                    clock.now(),  # type: ignore[arg-type]
                )
            if delivery_id is None:
                continue
            status, platform, reason, refused = await self._deliver(firing, recipient)
            sent += status == DeliveryStatus.SENT
            REMINDERS.labels(status).inc()
            if status == DeliveryStatus.SENT and clock.now() - firing.reminder.due_at > LATE:
                REMINDERS.labels("late").inc()
            async with db.uow() as uow:
                await reminders.mark(
                    uow, delivery_id, status, clock.now(), platform=platform, reason=reason
                )
            if refused:  # by the platform (not a bug of ours): said in the group's chat instead
                missed.append((delivery_id, platform, reason, recipient))
            if len(missed) == MENTIONS_PER_MESSAGE:  # a kill loses no more than one message's
                await self._mention(firing, missed)
                missed = []
        await self._mention(firing, missed)
        async with db.uow() as uow:
            await reminders.finish(uow, reminder_id, ReminderStatus.DONE, clock.now())
        return sent

    async def _mention(
        self, firing: Firing, missed: list[tuple[int, str | None, str | None, Recipient]]
    ) -> None:
        """Those no private message reached are named in the group's home chat, together
        (notify.mention_in_home_chat), as soon as there are enough of them for one message and
        at the end; their delivery log then says so. A kill before that loses their mention
        (they are logged as failed): at most one message's worth."""
        if not missed:
            return
        event = firing.event
        assert event is not None
        people = [Missed(r.accounts, r.person.display_name) for _, _, _, r in missed]
        db, notifiers = self.services.db, self.services.notifiers
        mentioned = await mention_in_home_chat(
            db, notifiers, event.group_id, people, _missed(event)
        )
        for (delivery_id, platform, reason, _), said in zip(missed, mentioned, strict=True):
            if said:
                async with db.uow() as uow:
                    await reminders.mark(
                        uow,
                        delivery_id,
                        DeliveryStatus.FAILED,
                        self.services.clock.now(),
                        platform=platform,
                        reason=f"{reason}; {reminders.MENTIONED}",
                    )

    async def _deliver(
        self, firing: Firing, recipient: Recipient
    ) -> tuple[DeliveryStatus, str | None, str | None, bool]:
        """Once, to the first of the person's accounts that takes it (when none does, the
        firing mentions them in the group's home chat: `_mention`). Returns how it went, for the
        delivery log, and whether the platform refused every account (a bug of ours, or a
        timeout after which the message may have arrived, is no reason to say it in public)."""
        notifiers = self.services.notifiers
        person = recipient.person
        if not recipient.accounts:
            return DeliveryStatus.FAILED, None, reminders.NO_ACCOUNT, False
        event = firing.event
        assert event is not None
        # whole seconds: a reminder sent a moment after its 1m mark read "starts in 60 seconds"
        remaining = timedelta(
            seconds=round((event.starts_at - self.services.clock.now()).total_seconds())
        )
        card = reminder_card(
            event, remaining, person.timezone, Translator(person.language), maybe=recipient.maybe
        )
        failures = []
        refused = True
        for identity in recipient.accounts:
            try:
                await notifiers[identity.platform].send(identity, card)
            except DeliveryFailed as error:
                failures.append(f"{identity.platform}: {error.reason}")
                continue
            except Exception as error:  # recorded either way: the run goes on to the next
                log.exception("reminder to person %s failed unexpectedly", person.id)
                failures.append(f"{identity.platform}: unexpected error: {error!r}")
                refused = False
                continue
            return DeliveryStatus.SENT, identity.platform, "; ".join(failures) or None, False
        platform = recipient.accounts[0].platform
        return DeliveryStatus.FAILED, platform, "; ".join(failures), refused


def _missed(event: Event) -> Callable[[Translator], Card]:
    """A reminder as the home chat's mention of someone it could not reach says it."""

    def card(t: Translator) -> Card:
        when = moment(format_time(event.starts_at, event.timezone, t), event.starts_at)
        said = t(
            ": reminder — {title} starts {when}. I can't message you privately: "
            "start a chat with me to get reminders there.",
            title=event.title,
            when=SLOT,
        )
        return Card().add(*slotted(said, when))  # each reader's own time where it can be

    return card
