"""Live cards: every posted copy of an activity's or a post's card is recorded, and redrawn
when what it shows changes, in the background, within each platform's limits.

A card lives in many places: the organiser's chat, each home chat of the group (on every
platform), every /event reply. Each copy is a `CardCopy` row (platform, chat, message, the
activity or post, whose view, language). A unit of work that changes an activity's roster or
details (`uow.activity_changed`), or a post's likes, replies, text, pin or deletion
(`uow.post_changed`), asks, in the same transaction, for one "cards" job per subject that has
copies (core.work; key "event:7" or "post:12"). The `CardRefresher` claims those jobs like
reminders (short renewed leases, any live process) and redraws each copy from the latest state:

- coalesced: one job per subject, so at most one edit is in flight per message; clicks that
  land while it runs make it run again, and the last run draws the final state;
- only what changed: a copy whose drawing (digest) is the same is not edited;
- paced: edits of all cards together take turns at the platforms' overall rate
  (EDITS_PER_SECOND), then go through the platform's notifier, which keeps within its limits
  per chat (Telegram's pacer, discord.py's buckets), never in a click's answer path;
- never held up by one chat: a copy whose chat will not take an edit for a while (a group
  chat's 20 a minute, a 429) is refused by the pacer (NotNow) and left stale, and the job is
  due again when that chat is ready, or at once if the subject changes meanwhile: the other
  copies follow every change, the slow chat's copy catches up at its chat's pace;
- forgetful: a copy the platform will not let us edit any more (deleted, too old, the bot
  removed) is forgotten on the platform's error.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import select

from core import work
from core.batch import Batch
from core.cards import Card
from core.clock import Clock
from core.db import on_conflict_insert
from core.i18n import Translator, default_locale
from core.metrics import CARDS_STALE
from core.models import CardCopy, Event, EventStatus, Job, Person
from core.notify import DeliveryFailed, NotNow, Posted, quietly
from core.services import chats, events, posts
from core.uow import UnitOfWork
from core.views import LOCAL_TIMES, deleted_post_card, event_card, post_card

if TYPE_CHECKING:
    from core.chat.registry import Services

log = logging.getLogger(__name__)

KIND = "cards"
# copies of one subject kept live per chat, besides the first one posted there (the group's
# announcement, the organiser's card from /newevent: the copy people scroll back to): in a
# person's own chat the latest one, in a shared chat the latest three. The copies between
# have scrolled away, and every live copy costs an edit per change; a tap on one brings it
# back as the latest (its answer must show on the card tapped)
KEEP_PERSONAL, KEEP_SHARED = 1, 3
EDITS_AT_ONCE = 32  # edits of one activity's copies in flight together (different messages)
RETRY = timedelta(seconds=30)
COALESCE = 1.0  # seconds at least between two redraws of one subject's cards
# redraw edits of all subjects together, evenly spaced, at most (Telegram's overall limit, the
# tightest platform's): cards that a hundred people keep in their own chats are redrawn every
# few seconds in a crowd, each subject in turn, and their redraws never take the bot's whole
# time nor queue more edits at the platform's pacer than it may send
EDITS_PER_SECOND = 30.0
SUBJECTS = {"event": CardCopy.event_id, "post": CardCopy.post_id}


def digest(card: Card) -> str:
    """What a copy shows, in 32 hex digits: same digest, nothing to edit."""
    drawn = repr((card.lines, card.buttons))
    return hashlib.blake2b(drawn.encode(), digest_size=16).hexdigest()


def _subject(key: str) -> tuple[str, int]:
    """A refresh job's key ("event:7") as (kind, id)."""
    kind, _, number = key.partition(":")
    return kind, int(number)


async def mark_stale(uow: UnitOfWork, event_ids: Iterable[int], post_ids: Iterable[int]) -> None:
    """Inside the transaction that changed these activities and posts: ask for their copies'
    redraw."""
    for kind, ids in (("event", list(event_ids)), ("post", list(post_ids))):
        if ids:
            redraws = functools.partial(_ask_redraws, kind=kind)
            await work.schedule_each(uow, KIND, redraws, {"ids": ids})


# the statements of the hot paths (every card sent or clicked), built once with parameters:
# building and keying them cost more than running them


_PLACE = (CardCopy.platform, CardCopy.chat_id, CardCopy.message_id)
_KNOWN = sa.select(*_PLACE).where(sa.tuple_(*_PLACE).in_(sa.bindparam("places", expanding=True)))
_OLDER = sa.delete(CardCopy).where(CardCopy.id.in_(sa.bindparam("ids", expanding=True)))  # type: ignore[attr-defined]


def _at(posted: Posted) -> dict[str, str]:
    """The parameters naming a copy's message."""
    return {"platform": posted.platform, "chat_id": posted.chat_id, "message_id": posted.message_id}


@functools.cache
def _ask_redraws(dialect: str, kind: str) -> sa.Insert:
    """A "cards" job for each of these activities or posts that has recorded copies (on every
    change), in one statement: which have copies and the jobs' upsert."""
    column = SUBJECTS[kind]
    key = (sa.literal(f"{kind}:") + sa.cast(column, sa.String)).label("key")
    with_copies = select(key).where(column.in_(sa.bindparam("ids", expanding=True))).distinct()  # type: ignore[union-attr,attr-defined]
    return work.upsert_each(dialect, KIND, with_copies)


@functools.cache
def _upsert(dialect: str) -> sa.Insert:
    """Record a copy, or what an existing one (the same message, edited) shows now."""
    table = CardCopy.__table__  # type: ignore[attr-defined]
    insert = on_conflict_insert(dialect, table)
    shown = ("event_id", "post_id", "viewer_id", "locale", "digest")
    return insert.on_conflict_do_update(
        index_elements=["platform", "chat_id", "message_id"],
        set_={name: insert.excluded[name] for name in shown},
    )


@functools.cache
def _same_place(kind: str) -> sa.Select:
    """The copies of one subject in one chat with the same viewer (None: the shared ones)."""
    return select(CardCopy.id, CardCopy.message_id, CardCopy.created_at).where(
        SUBJECTS[kind] == sa.bindparam("number"),
        CardCopy.platform == sa.bindparam("platform"),
        CardCopy.chat_id == sa.bindparam("chat_id"),
        CardCopy.viewer_id.is_not_distinct_from(sa.bindparam("viewer")),  # type: ignore[union-attr]
    )


@dataclass(frozen=True)
class _Record:
    """A copy to record: `drawn=False`, it still shows something older, so the redraw edits it
    whatever it draws; `clicked`, a clicked card, recorded only when its message is unknown."""

    posted: Posted
    drawn: bool
    clicked: bool = False


def recorder(services: Services) -> Batch[_Record]:
    """The process's card records, written together: one transaction for the cards sent and
    clicked about the same moment, not one each (core.batch)."""
    return Batch(functools.partial(_record_all, services))


async def remember(services: Services, posted: Posted, *, drawn: bool = True) -> None:
    """Record a posted copy of a live card (the caller just sent or edited it; `drawn=False`:
    it still shows something older, so the redraw edits it whatever it draws).
    `posted.viewer_id`: whose personal view it shows (ignored for a shared card).
    Returns once it is recorded."""
    if posted.card.live is not None:
        await services.copies.add(_Record(posted, drawn))


async def redraw_later(services: Services, posted: Posted) -> None:
    """A clicked card is redrawn by the refresher with every other copy, not in the click's
    answer. A copy we knew is already in the job its change asked for; one we did not know (a
    card posted before copies were kept) is recorded as stale and its redraw asked for."""
    if posted.card.live is not None:
        await services.copies.add(_Record(posted, drawn=False, clicked=True))


async def _record_all(services: Services, records: list[_Record]) -> None:
    if all(r.clicked for r in records):  # the usual batch of clicks: a read finds them known
        async with services.db.uow(readonly=True) as uow:
            known = await _known(uow, [r.posted for r in records])
        records = [r for r in records if _place(r.posted) not in known]
        if not records:
            return
    async with services.db.uow() as uow:
        known = await _known(uow, [r.posted for r in records if r.clicked])
        subjects = set()
        for record in records:
            if not (record.clicked and _place(record.posted) in known):
                subjects.add(await _record(uow, services.clock, record))
        # a card drawn at answer time may be recorded after later changes were redrawn: the
        # refresher looks again at each subject (an edit only where the drawing differs)
        for subject in sorted(subjects):
            await work.schedule(uow, KIND, subject, work.AT_ONCE)
        await uow.commit()


def _place(posted: Posted) -> tuple[str, str, str]:
    return posted.platform, posted.chat_id, posted.message_id


async def _known(uow: UnitOfWork, clicked: list[Posted]) -> set[tuple[str, str, str]]:
    """Which of these messages hold a recorded copy."""
    if not clicked:
        return set()
    places = sorted({_place(posted) for posted in clicked})
    connection = await uow.session.connection()
    rows = await connection.execute(_KNOWN, {"places": places})
    return {tuple(row) for row in rows}  # type: ignore[misc]


async def _record(uow: UnitOfWork, clock: Clock, record: _Record) -> str:
    """Record one copy; returns its subject ("event:7")."""
    posted = record.posted
    card, live = posted.card, posted.card.live
    assert live is not None
    viewer = posted.viewer_id if live.personal else None
    kind, number = _subject(live.subject)
    connection = await uow.session.connection()
    place = _at(posted)
    await connection.execute(
        _upsert(connection.dialect.name),
        {
            **place,
            "event_id": live.event_id,
            "post_id": live.post_id,
            "viewer_id": viewer,
            "locale": posted.locale,
            "digest": digest(card) if record.drawn else "",
            "created_at": clock.now(),
        },
    )
    same = {**place, "number": number, "viewer": viewer}
    rows = (await connection.execute(_same_place(kind), same)).all()
    older = _scrolled_away(rows, KEEP_SHARED if viewer is None else KEEP_PERSONAL, place)
    if older:
        await connection.execute(_OLDER, {"ids": older})
    return live.subject


def _scrolled_away(rows: list[sa.Row], keep: int, recorded: dict[str, str]) -> list[int]:
    """Of one subject's copies in one chat for one viewer (id, message id, recorded at), those
    no longer kept live: all but the first posted, the one `recorded` now (just sent, or
    tapped after it had scrolled away: the tap's answer must show on it) and the latest
    others, `keep` in all with it. Message ids grow in a chat (Telegram's counters, Discord's
    snowflakes), so the smallest is the first posted, whichever process recorded it first."""
    if len(rows) <= keep + 1:
        return []

    def posted(row: sa.Row) -> tuple[int, str]:
        return len(row[1]), row[1]

    first = min(rows, key=posted)[0]
    current = [row[0] for row in rows if row[1] == recorded["message_id"]]
    others = [row for row in rows if row[0] not in current]
    latest = sorted(others, key=lambda row: (row[2], posted(row)), reverse=True)
    kept = {first, *current, *(row[0] for row in latest[: keep - len(current)])}
    return [row[0] for row in rows if row[0] not in kept]


async def copies_of(uow: UnitOfWork, key: str) -> list[CardCopy]:
    """The recorded copies of a subject ("event:7", "post:12")."""
    kind, number = _subject(key)
    column = SUBJECTS[kind]
    return list(
        (
            await uow.session.exec(select(CardCopy).where(column == number).order_by(CardCopy.id))
        ).all()
    )


def _readers(copies: list[CardCopy]) -> list[int]:
    return sorted({c.viewer_id for c in copies if c.viewer_id is not None})


Drawn = dict[tuple[int | None, str | None, str], Card]


def _each_once(copies: list[CardCopy], draw: Callable[[CardCopy, Translator], Card]) -> Drawn:
    """The card each copy should show, drawn once per (reader, language, platform)."""
    drawn: Drawn = {}
    for copy in copies:
        key = (copy.viewer_id, copy.locale, copy.platform)
        if key not in drawn:
            drawn[key] = draw(copy, Translator(copy.locale))
    return drawn


async def _event_drawings(
    services: Services, event_id: int, copies: list[CardCopy]
) -> tuple[Drawn, datetime | None]:
    """An activity's copies, from views read together (events.views_for_readers), and when
    they change by themselves: at the start, when the roster closes (None: it has, or the
    activity was cancelled)."""
    readers = _readers(copies)
    async with services.db.uow(readonly=True) as uow:
        shared, views = await events.views_for_readers(uow, event_id, readers)
        zones = dict(
            (
                await uow.session.exec(
                    select(Person.id, Person.timezone).where(Person.id.in_(readers))  # type: ignore[union-attr]
                )
            ).all()
        )

    now = services.clock.now()

    def draw(copy: CardCopy, t: Translator) -> Card:
        view = views.get(copy.viewer_id) if copy.viewer_id is not None else None
        if view is None:  # a shared card, or a reader who lost access: nobody's own status
            return event_card(shared, t, personal=False, now=now)
        zone = None if copy.platform in LOCAL_TIMES else zones.get(copy.viewer_id)
        return event_card(view, t, personal=True, reader_zone=zone, now=now)

    return _each_once(copies, draw), _next_change(shared.event, now)


def _next_change(event: Event, now: datetime) -> datetime | None:
    """When the activity's cards change by themselves: just past its sign-up deadline (no
    Sign up from then; at the deadline itself one may still sign up) and at its start (the
    roster closes)."""
    if event.status != EventStatus.SCHEDULED:
        return None
    deadline = event.signup_deadline
    moments = (deadline + timedelta(seconds=1) if deadline else None, event.starts_at)
    return min((at for at in moments if at is not None and at > now), default=None)


async def _post_drawings(
    services: Services, post_id: int, copies: list[CardCopy]
) -> tuple[Drawn, None]:
    """A post's copies: its likes and replies as each reader sees them, or "deleted"; they
    change only when the post does."""
    async with services.db.uow(readonly=True) as uow:
        shared, views = await posts.views_for_readers(uow, post_id, _readers(copies))

    def draw(copy: CardCopy, t: Translator) -> Card:
        if shared is None:
            return deleted_post_card(t)
        view = views.get(copy.viewer_id) if copy.viewer_id is not None else None
        return post_card(view or shared, t, live=True)

    return _each_once(copies, draw), None


DRAWINGS = {"event": _event_drawings, "post": _post_drawings}


async def for_everyone(
    services: Services, card: Card, drawn_in: str, chat: tuple[str, str]
) -> tuple[Card, str]:
    """The card as it should show in `chat` (platform, chat id), and in which language: a
    shared card (the same for everyone in a group chat or channel) in the chat's language
    (`shown_in`), whoever's answer drew it (a click or a command by a Chinese speaker turned a
    channel's card Chinese for everyone, and every redraw kept it so); a personal one as
    drawn, in its reader's. A shared card drawn in another language is drawn again as the
    refresher draws its copies."""
    locale = await shown_in(services, card, drawn_in, chat)
    if drawn_in == locale:  # a personal card, or already in the chat's language
        return card, locale
    return await _drawn_as(services, card, None, locale), locale


async def for_reader(services: Services, card: Card, reader_id: int, locale: str) -> Card:
    """A card going to one person's own chat (a group chat's tap answered privately): a shared
    card is drawn as theirs, with their own place on it, as the refresher draws it there."""
    if card.live is None or card.live.personal:
        return card
    return await _drawn_as(services, card, reader_id, locale)


async def shown_in(services: Services, card: Card, drawn_in: str, chat: tuple[str, str]) -> str:
    """The language a copy of `card` in `chat` shows: a personal card its reader's; a shared
    card the chat's: the language a group's home chat was bound in, as its announcements are
    (core.notify.post_in_home), else the community's (DEFAULT_LOCALE). So nothing in one chat
    speaks two languages."""
    if card.live is None or card.live.personal:
        return drawn_in
    return await chat_language(services, chat)


async def chat_language(services: Services, chat: tuple[str, str]) -> str:
    """What everyone in a shared chat reads (`shown_in`), kept a moment (core.recent): a tap
    on a shared card must not wait on a read each time."""
    known, now = services.chat_languages, services.clock.now()
    found = known.get(chat, now)
    if found is None:
        since = known.generation
        async with services.db.uow(readonly=True) as uow:
            found = await chats.chat_language(uow, *chat) or ""
        known.put(chat, now, found, since)
    return found or default_locale()


async def _drawn_as(services: Services, card: Card, viewer_id: int | None, locale: str) -> Card:
    """The card as the refresher draws a copy of it for `viewer_id` (None: shared) in
    `locale`, before that copy is posted."""
    copy = CardCopy(platform="", chat_id="", message_id="", viewer_id=viewer_id, locale=locale)
    kind, number = _subject(card.live.subject)  # type: ignore[union-attr]
    drawn, _ = await DRAWINGS[kind](services, number, [copy])
    return next(iter(drawn.values()))


class CardRefresher(work.Worker):
    """Redraws stale card copies: the "cards" jobs of core.work, one per activity or post."""

    kind = KIND

    def __init__(self, services: Services, **options) -> None:
        super().__init__(services.db, services.clock, **options)
        self.services = services
        self._next: dict[str, float] = {}  # subject -> when its next redraw may begin
        self._edit_at = 0.0  # when the next edit's turn comes (EDITS_PER_SECOND)

    async def process(self, rows: list[Job]) -> int:
        """Subjects are redrawn side by side: one slow chat must not hold up the others."""
        CARDS_STALE.set(len(rows))
        try:
            return sum(await asyncio.gather(*(self._run(job) for job in rows)))
        finally:
            CARDS_STALE.set(0)

    async def _turn(self) -> None:
        """Wait for an edit's turn: evenly spaced at EDITS_PER_SECOND across every subject,
        in the order asked (each subject asks for at most EDITS_AT_ONCE at a time, so a small
        card's redraw is not queued behind all of a big one's)."""
        now = time.monotonic()
        at = max(now, self._edit_at)
        self._edit_at = at + 1 / EDITS_PER_SECOND
        if at > now:
            await asyncio.sleep(at - now)

    async def _run(self, job: Job) -> int:
        """One subject's redraw, at most one per COALESCE seconds, and never two at once (a
        redraw of many copies takes its edits' turns): changes that land in the meantime are
        drawn together by the next one (a crowd's 60 clicks are a few edits)."""
        wait = self._next.get(job.key, 0.0) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        began = time.monotonic()
        self._next[job.key] = began + COALESCE
        if len(self._next) > 10_000:
            self._next.clear()
        try:
            edited, busy, changes_at = await self.redraw(job.key)
        except Exception:
            log.exception("redrawing the cards of %s failed; retrying later", job.key)
            async with self.db.uow() as uow:
                await work.retry_later(uow, job, self.worker, self.clock.now() + RETRY)
            return 0
        now = self.clock.now()
        rest_at = None if busy is None else now + timedelta(seconds=busy)
        if changes_at is not None and (rest_at is None or changes_at < rest_at):
            rest_at = changes_at  # the same job, due again when the cards change by themselves
        async with self.db.uow() as uow:
            await work.finish(uow, job, self.worker, now, rest_at=rest_at)
        return edited

    async def redraw(self, key: str) -> tuple[int, float | None, datetime | None]:
        """Bring every copy of the subject ("event:7") up to date; returns how many were
        edited, in how many seconds to come back for the copies whose chat was busy
        (None: none was), and when the copies change by themselves (an activity's start,
        when its roster closes; None: never). A busy chat (a group chat's 20 edits a minute)
        does not hold up the redraw: its copy waits for a later one, and this one ends, so the
        next change's redraw of the other copies need not wait for it."""
        async with self.db.uow(readonly=True) as uow:
            copies = await copies_of(uow, key)
        notifiers = self.services.notifiers
        copies = [c for c in copies if hasattr(notifiers.get(c.platform), "edit")]
        if not copies:
            return 0, None, None
        kind, number = _subject(key)
        drawn, changes_at = await DRAWINGS[kind](self.services, number, copies)
        gate = asyncio.Semaphore(EDITS_AT_ONCE)
        drawn_now: dict[int, str] = {}
        gone: list[int] = []
        busy: list[float] = []

        async def redraw_copy(copy: CardCopy) -> None:
            card = drawn[(copy.viewer_id, copy.locale, copy.platform)]
            now = digest(card)
            if now == copy.digest:
                return
            async with gate:
                await self._turn()
                try:
                    with quietly():  # a redraw never goes before anyone's answer
                        await notifiers[copy.platform].edit(copy.chat_id, copy.message_id, card)  # type: ignore[attr-defined]
                except DeliveryFailed as error:
                    log.info("card copy %s forgotten: %s", copy.id, error.reason)
                    gone.append(copy.id)  # type: ignore[arg-type]
                    return
                except NotNow as error:  # still stale: redrawn when its chat is ready
                    busy.append(error.retry_in)
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
        return len(drawn_now), min(busy) if busy else None, changes_at
