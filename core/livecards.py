"""Live activity cards: every posted copy of a card is recorded, and redrawn when its activity
changes, in the background, within each platform's limits.

A card lives in many places: the organiser's chat, each home chat of the group, every /event
reply. Each copy is a `CardCopy` row (platform, chat, message, activity, whose view, language).
A unit of work that changes an activity's roster or details (`uow.activity_changed`) asks, in
the same transaction, for one "cards" job per activity that has copies (core.work). The
`CardRefresher` claims those jobs like reminders (short renewed leases, any live process) and
redraws each copy from the latest state:

- coalesced: one job per activity, so at most one edit is in flight per message; clicks that
  land while it runs make it run again, and the last run draws the final state;
- only what changed: a copy whose drawing (digest) is the same is not edited;
- paced: edits go through the platform's notifier, which keeps within its limits (Telegram's
  pacer, discord.py's buckets), never in a click's answer path;
- forgetful: a copy the platform will not let us edit any more (deleted, too old, the bot
  removed) is forgotten on the platform's error.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import select

from core import work
from core.cards import Card
from core.i18n import Translator
from core.metrics import CARDS_STALE
from core.models import CardCopy, Job, Person
from core.notify import DeliveryFailed, Posted, quietly
from core.services import events
from core.uow import UnitOfWork
from core.views import LOCAL_TIMES, event_card

if TYPE_CHECKING:
    from core.chat.registry import Services

log = logging.getLogger(__name__)

KIND = "cards"
# copies of one activity kept live per chat: in a person's own chat the latest one, in a shared
# chat the latest three (older ones scrolled away; every live copy costs an edit per change)
KEEP_PERSONAL, KEEP_SHARED = 1, 3
EDITS_AT_ONCE = 32  # edits of one activity's copies in flight together (different messages)
RETRY = timedelta(seconds=30)
COALESCE = 1.0  # seconds between two redraws of one activity's cards


def digest(card: Card) -> str:
    """What a copy shows, in 32 hex digits: same digest, nothing to edit."""
    drawn = repr((card.lines, card.buttons))
    return hashlib.blake2b(drawn.encode(), digest_size=16).hexdigest()


async def mark_stale(uow: UnitOfWork, event_ids: Iterable[int]) -> None:
    """Inside the transaction that changed these activities: ask for their copies' redraw."""
    with_copies = (
        await uow.session.exec(
            select(CardCopy.event_id).where(CardCopy.event_id.in_(list(event_ids))).distinct()  # type: ignore[attr-defined]
        )
    ).all()
    for event_id in with_copies:
        await work.schedule(uow, KIND, str(event_id), work.AT_ONCE)


def _at(posted: Posted):
    """The copy stored for this message, if any."""
    return select(CardCopy).where(
        CardCopy.platform == posted.platform,
        CardCopy.chat_id == posted.chat_id,
        CardCopy.message_id == posted.message_id,
    )


async def remember(services: Services, posted: Posted, *, drawn: bool = True) -> None:
    """Record a posted copy of a live card (the caller just sent or edited it; `drawn=False`:
    it still shows something older, so redraw it). `posted.viewer_id`: whose personal view
    it shows (ignored for a shared card)."""
    card, live = posted.card, posted.card.live
    if live is None:
        return
    viewer = posted.viewer_id if live.personal else None
    async with services.db.uow() as uow:
        copy = (await uow.session.exec(_at(posted))).first() or CardCopy(
            event_id=live.event_id,
            platform=posted.platform,
            chat_id=posted.chat_id,
            message_id=posted.message_id,
            created_at=services.clock.now(),
        )
        copy.event_id, copy.viewer_id, copy.locale = live.event_id, viewer, posted.locale
        copy.digest = digest(card) if drawn else ""
        uow.session.add(copy)
        await uow.session.flush()
        older = (
            await uow.session.exec(
                select(CardCopy.id)
                .where(
                    CardCopy.event_id == live.event_id,
                    CardCopy.platform == posted.platform,
                    CardCopy.chat_id == posted.chat_id,
                    CardCopy.viewer_id.is_not_distinct_from(viewer),  # type: ignore[union-attr]
                )
                .order_by(CardCopy.id.desc())  # type: ignore[union-attr]
                .offset(KEEP_SHARED if viewer is None else KEEP_PERSONAL)
            )
        ).all()
        if older:
            await uow.session.exec(sa.delete(CardCopy).where(CardCopy.id.in_(older)))  # type: ignore[attr-defined]
        if not drawn:
            await work.schedule(uow, KIND, str(live.event_id), work.AT_ONCE)
        await uow.commit()


async def redraw_later(services: Services, posted: Posted) -> None:
    """A clicked card is redrawn by the refresher with every other copy, not in the click's
    answer. A copy we knew is already in the job its change asked for; one we did not know (a
    card posted before copies were kept) is recorded as stale and its redraw asked for."""
    if posted.card.live is None:
        return
    async with services.db.uow(readonly=True) as uow:
        known = (await uow.session.exec(_at(posted))).first()
    if known is None:
        await remember(services, posted, drawn=False)


async def copies_of(uow: UnitOfWork, event_id: int) -> list[CardCopy]:
    return list(
        (
            await uow.session.exec(
                select(CardCopy).where(CardCopy.event_id == event_id).order_by(CardCopy.id)
            )
        ).all()
    )


async def _drawings(services: Services, event_id: int, copies: list[CardCopy]) -> dict:
    """The card each copy should show now, drawn once per (reader, language, platform), from
    views read together (events.views_for_readers)."""
    readers = sorted({c.viewer_id for c in copies if c.viewer_id is not None})
    async with services.db.uow(readonly=True) as uow:
        shared, views = await events.views_for_readers(uow, event_id, readers)
        zones = dict(
            (
                await uow.session.exec(
                    select(Person.id, Person.timezone).where(Person.id.in_(readers))  # type: ignore[union-attr]
                )
            ).all()
        )
    drawn: dict[tuple[int | None, str | None, str], Card] = {}
    for copy in copies:
        key = (copy.viewer_id, copy.locale, copy.platform)
        if key in drawn:
            continue
        t = Translator(copy.locale)
        view = views.get(copy.viewer_id) if copy.viewer_id is not None else None
        if view is None:  # a shared card, or a reader who lost access: nobody's own status
            drawn[key] = event_card(shared, t, personal=False)
        else:
            zone = None if copy.platform in LOCAL_TIMES else zones.get(copy.viewer_id)
            drawn[key] = event_card(view, t, personal=True, reader_zone=zone)
    return drawn


class CardRefresher(work.Worker):
    """Redraws stale card copies: the "cards" jobs of core.work, one per activity."""

    kind = KIND

    def __init__(self, services: Services, **options) -> None:
        super().__init__(services.db, services.clock, **options)
        self.services = services
        self._last: dict[int, float] = {}  # activity -> when its last redraw began

    async def process(self, rows: list[Job]) -> int:
        """Activities are redrawn side by side: one slow chat must not hold up the others."""
        CARDS_STALE.set(len(rows))
        try:
            return sum(await asyncio.gather(*(self._run(job) for job in rows)))
        finally:
            CARDS_STALE.set(0)

    async def _run(self, job: Job) -> int:
        """One activity's redraw, at most one per COALESCE seconds: changes that land in the
        meantime are drawn together by the next one (a crowd's 60 clicks are a few edits)."""
        event_id = int(job.key)
        wait = self._last.get(event_id, -COALESCE) + COALESCE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last[event_id] = time.monotonic()
        if len(self._last) > 10_000:
            self._last.clear()
        try:
            edited = await self.redraw(event_id)
        except Exception:
            log.exception("redrawing the cards of activity %s failed; retrying later", job.key)
            async with self.db.uow() as uow:
                await work.retry_later(uow, job, self.worker, self.clock.now() + RETRY)
            return 0
        async with self.db.uow() as uow:
            await work.finish(uow, job, self.worker, self.clock.now())
        return edited

    async def redraw(self, event_id: int) -> int:
        """Bring every copy of the activity up to date; returns how many were edited."""
        async with self.db.uow(readonly=True) as uow:
            copies = await copies_of(uow, event_id)
        notifiers = self.services.notifiers
        copies = [c for c in copies if hasattr(notifiers.get(c.platform), "edit")]
        if not copies:
            return 0
        drawn = await _drawings(self.services, event_id, copies)
        gate = asyncio.Semaphore(EDITS_AT_ONCE)
        drawn_now: dict[int, str] = {}
        gone: list[int] = []

        async def redraw_copy(copy: CardCopy) -> None:
            card = drawn[(copy.viewer_id, copy.locale, copy.platform)]
            now = digest(card)
            if now == copy.digest:
                return
            async with gate:
                try:
                    with quietly():  # a redraw never goes before anyone's answer
                        await notifiers[copy.platform].edit(copy.chat_id, copy.message_id, card)  # type: ignore[attr-defined]
                except DeliveryFailed as error:
                    log.info("card copy %s forgotten: %s", copy.id, error.reason)
                    gone.append(copy.id)  # type: ignore[arg-type]
                    return
            drawn_now[copy.id] = now  # type: ignore[index]

        await asyncio.gather(*(redraw_copy(copy) for copy in copies))
        if drawn_now or gone:  # one transaction for the whole redraw
            async with self.db.uow() as uow:
                if drawn_now:
                    table = CardCopy.__table__  # type: ignore[attr-defined]
                    connection = await uow.session.connection()
                    await connection.execute(
                        sa.update(table)
                        .where(table.c.id == sa.bindparam("copy_id"))
                        .values(digest=sa.bindparam("drawn")),
                        [{"copy_id": k, "drawn": v} for k, v in drawn_now.items()],
                    )
                if gone:
                    await uow.session.exec(sa.delete(CardCopy).where(CardCopy.id.in_(gone)))  # type: ignore[attr-defined]
                await uow.commit()
        return len(drawn_now)
