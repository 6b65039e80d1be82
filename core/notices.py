"""Notices that must not be lost: durable jobs (core.work) that tell one person something.

A service that makes news for someone schedules a job for it in the same transaction as the
change; each kind has its module:
- a seat from the waitlist: core.promotions;
- an activity moved or cancelled, to its roster (once for a whole series): core.roster_news;
- a join request, to the group's admins; its decision, a ban, its lifting, a group handed
  over, to the person: core.membership_news;
- a new activity or post, to its group's home chats: core.announcements;
- a reply to a post, to its author: core.post_replies;
- a post removed by a group admin, to its author: core.post_removals;
- a report, to the operators and the admins of the reported post's group: core.report_news;
- a companion's hi, to the person greeted, and its acceptance, to the sender: core.hello_news.
This worker tells them, from whichever process is alive: a process killed between the commit
and the send leaves the job, and the next one tells the person.

Each kind has a teller: it reads, in the worker's transaction, whether the news is still true
and what to say (`TELLERS`). The job is finished before the message goes out (at most once,
like a timed offer's first step, core.offers), and only by the worker whose claim it still
was: a process killed between the two loses that one notice, where sending first would tell
the person twice. A job asked for again while it ran is not told by that run: the run that
follows tells what stands then, so two changes in quick succession make one message, not
the same message twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from core import livecards, work
from core.announcements import HomePost, told_in_home
from core.cards import Notice
from core.hello_news import told_of_hello
from core.membership_news import told_of_membership, told_of_request
from core.models import Job, WorkStatus
from core.notify import deliver, post_in_home
from core.post_removals import told_of_removal
from core.post_replies import told_of_reply
from core.promotions import told_of_seat
from core.report_news import told_of_report
from core.roster_news import told_of_change, told_of_series
from core.services.chats import ANNOUNCE
from core.services.discovery import HELLO
from core.services.events import NEWS, PROMOTED, SERIES_NEWS
from core.services.groups import ASKED, MEMBERSHIP
from core.services.posts import POST_REMOVED, REPLIED
from core.services.reports import REPORTED
from core.uow import Changes, UnitOfWork

if TYPE_CHECKING:
    from core.chat.registry import Services

Message = Notice | HomePost  # to one person, or to a group's home chat
Teller = Callable[[UnitOfWork, Job, datetime], Awaitable[Message | None]]

TELLERS: dict[str, Teller] = {
    PROMOTED: told_of_seat,
    NEWS: told_of_change,
    SERIES_NEWS: told_of_series,
    ASKED: told_of_request,
    MEMBERSHIP: told_of_membership,
    ANNOUNCE: told_in_home,
    REPLIED: told_of_reply,
    POST_REMOVED: told_of_removal,
    REPORTED: told_of_report,
    HELLO: told_of_hello,
}


class NoticeWorker(work.Worker):
    """One worker for every kind in `TELLERS`: one claim, alarm clock and heartbeat per
    process, however many kinds of notice there are."""

    def __init__(self, services: Services, **options) -> None:
        super().__init__(services.db, services.clock, **options)
        self.services = services

    def wakes_on(self, changes: Changes) -> bool:
        return not changes.jobs.isdisjoint(TELLERS)

    def _mine(self) -> sa.ColumnElement[bool]:
        return Job.kind.in_(tuple(TELLERS))  # type: ignore[attr-defined]

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
            message = await self._finish(job)
            if message is not None:
                await self._send(message)
                told += 1
        return told

    async def _send(self, message: Message) -> None:
        notifiers = self.services.notifiers
        if isinstance(message, Notice):
            posted = await deliver(self.db, notifiers, [message])
        else:
            home = await post_in_home(notifiers, message.home, message.card)
            posted = [] if home is None else [home]
        for item in posted:  # a live card: its copy is redrawn on every change
            await livecards.remember(self.services, item)

    async def _finish(self, job: Job) -> Message | None:
        """Mark the job done; its message if it is still news and the claim was still this
        worker's to finish."""
        now = self.clock.now()
        async with self.db.uow() as uow:
            message = await TELLERS[job.kind](uow, job, now)
            left = await work.finish(uow, job, self.worker, now)
        if left is None:
            return None  # another process took the claim over: it tells them
        if left == WorkStatus.PENDING:
            return None  # asked again while this ran: the next run tells what stands, once
        return message
