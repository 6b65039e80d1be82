"""The reminder runner: APScheduler is only the alarm clock; the database is the truth.

At start-up the runner fires whatever came due while the process was down (late if the activity
has not started, skipped and logged if it has), then arms one APScheduler job for the next due
row. Changes made here poke it to re-arm; a slow periodic tick picks up rows written by other
processes. Each due row is claimed before firing, and each delivery recorded before sending, so
several processes on one database never send a reminder twice.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from core.chat.registry import Services
from core.i18n import Translator
from core.models import DeliveryStatus, ReminderStatus
from core.notify import DeliveryFailed, mention_in_home_chat
from core.services import reminders
from core.services.reminders import Firing, Recipient
from core.views import reminder_card

log = logging.getLogger(__name__)


class ReminderRunner:
    def __init__(
        self,
        services: Services,
        *,
        worker: str | None = None,
        batch: int = 20,
        lease: timedelta = timedelta(minutes=10),
        poll_seconds: float = 60.0,
    ) -> None:
        self.services = services
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.batch, self.lease, self.poll_seconds = batch, lease, poll_seconds
        self.scheduler: AsyncIOScheduler | None = None
        self._lock = asyncio.Lock()
        self._running: set[asyncio.Task] = set()

    async def start(self) -> None:
        self.scheduler = AsyncIOScheduler(
            timezone=UTC,
            # A wake-up that runs late must still run: the rows decide what is due.
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        )
        self.scheduler.start()
        self.scheduler.add_job(
            self._job,
            "interval",
            args=[self.tick],
            seconds=self.poll_seconds,
            id="poll",
            replace_existing=True,
        )
        self.services.on_reminders_changed = self.poke
        await self.tick()

    async def stop(self) -> None:
        """Stop waking; let a job in progress finish (it may be sending) before returning. The
        scheduler is only paused meanwhile: shutting APScheduler's asyncio executor down
        cancels the jobs it is running."""
        self.services.on_reminders_changed = None
        if self.scheduler is not None:
            self.scheduler.pause()
            await asyncio.sleep(0)  # a job already handed to the executor starts: it counts
            await asyncio.gather(*self._running, return_exceptions=True)
            self.scheduler.shutdown(wait=False)
            self.scheduler = None

    async def _job(self, work: Callable[[], Awaitable[None]]) -> None:
        """Every scheduled job runs through here, so stop() can wait for it."""
        task = asyncio.current_task()
        assert task is not None
        self._running.add(task)
        try:
            await work()
        finally:
            self._running.discard(task)

    def poke(self) -> None:
        """Something changed here: re-arm for the earliest due row (coalesced)."""
        if self.scheduler is not None:
            self.scheduler.add_job(self._job, args=[self.arm], id="arm", replace_existing=True)

    async def tick(self) -> None:
        async with self._lock:
            await self.run_due()
        await self.arm()

    async def arm(self) -> None:
        if self.scheduler is None:
            return
        async with self.services.db.uow(readonly=True) as uow:
            due = await reminders.next_due(uow)
        if due is None:
            if self.scheduler.get_job("wake"):
                self.scheduler.remove_job("wake")
            return
        delay = max(0.0, (due - self.services.clock.now()).total_seconds())
        run_at = datetime.now(UTC) + timedelta(seconds=delay)
        self.scheduler.add_job(
            self._job,
            DateTrigger(run_date=run_at),
            args=[self.tick],
            id="wake",
            replace_existing=True,
        )

    async def run_due(self) -> int:
        """Claim and fire everything due now; returns how many messages were sent."""
        sent = 0
        while True:
            now = self.services.clock.now()
            async with self.services.db.uow() as uow:
                claimed = await reminders.claim_due(
                    uow, now, self.worker, limit=self.batch, lease=self.lease
                )
            if not claimed:
                return sent
            for reminder in claimed:
                sent += await self.fire(reminder.id)  # type: ignore[arg-type]

    async def fire(self, reminder_id: int) -> int:
        db, clock = self.services.db, self.services.clock
        async with db.uow() as uow:
            firing = await reminders.prepare(
                uow, reminder_id, clock.now(), frozenset(self.services.notifiers)
            )
        if firing.outcome == "skipped":
            log.warning(
                "reminder %s of activity %s skipped: the activity had already started",
                reminder_id,
                firing.reminder.event_id,
            )
        if firing.outcome != "fire":
            return 0
        sent = 0
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
            status, platform, reason = await self._deliver(firing, recipient)
            sent += status == DeliveryStatus.SENT
            async with db.uow() as uow:
                await reminders.mark(
                    uow, delivery_id, status, clock.now(), platform=platform, reason=reason
                )
        async with db.uow() as uow:
            await reminders.finish(uow, reminder_id, ReminderStatus.DONE, clock.now())
        return sent

    async def _deliver(
        self, firing: Firing, recipient: Recipient
    ) -> tuple[DeliveryStatus, str | None, str | None]:
        notifiers = self.services.notifiers
        person, identity = recipient.person, recipient.identity
        if identity is None:
            return DeliveryStatus.FAILED, None, "no account the bot can reach"
        event = firing.event
        assert event is not None
        remaining = event.starts_at - self.services.clock.now()
        card = reminder_card(event, remaining, person.timezone, Translator(person.locale))
        try:
            await notifiers[identity.platform].send(identity, card)
        except Exception as error:  # recorded either way: the run goes on to the next person
            if not isinstance(error, DeliveryFailed):
                log.exception("reminder to person %s failed unexpectedly", person.id)
                return (
                    DeliveryStatus.FAILED,
                    identity.platform,
                    f"unexpected error: {error!r}"[:300],
                )
            mentioned = await mention_in_home_chat(
                self.services.db, notifiers, event, identity, person.display_name
            )
            reason = error.reason + ("; mentioned in the group's chat" if mentioned else "")
            return DeliveryStatus.FAILED, identity.platform, reason
        return DeliveryStatus.SENT, identity.platform, None
