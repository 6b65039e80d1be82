"""The Notifier port: how the core reaches a person who is not the one acting.

Each adapter implements `Notifier` for its platform. The core picks the person's identity on a
platform that has a notifier, builds the card in the person's own language, and sends it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol

from core.cards import Card, Notice, Span, italic, mention, plain
from core.i18n import Translator
from core.models import GroupChat, Identity, Person
from core.services import reach
from core.services.chats import home_chats

log = logging.getLogger(__name__)


_QUIET: ContextVar[bool] = ContextVar("quiet_sends", default=False)


@contextmanager
def quietly() -> Iterator[None]:
    """Sends made inside are background work (card redraws): a platform's pacer lets them go
    only when no answer to anyone is waiting for the same budget."""
    token = _QUIET.set(True)
    try:
        yield
    finally:
        _QUIET.reset(token)


def is_quiet() -> bool:
    return _QUIET.get()


class NotNow(Exception):
    """A background send (`quietly`) refused by the platform's pacer: that chat's own limit will
    not let it through for `retry_in` seconds (a group chat allows 20 messages a minute). The
    sender comes back then instead of holding up its other work meanwhile."""

    def __init__(self, retry_in: float) -> None:
        super().__init__(f"the chat is busy for {retry_in:.1f} s")
        self.retry_in = retry_in


class DeliveryFailed(Exception):
    """The platform refused the message for good (blocked bot, closed DMs, unknown chat)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Notifier(Protocol):
    """Sends return the id of the message that carries the card, when it is one message the
    platform lets us edit later (live cards, core.livecards), else None.

    A notifier that can edit also has `edit(chat_id, message_id, card)`, raising
    DeliveryFailed when that message can no longer be edited (deleted, too old, bot removed)."""

    platform: str

    async def send(self, identity: Identity, card: Card) -> str | None:
        """Deliver now, waiting out rate limits; raise DeliveryFailed if it can never arrive."""
        ...

    async def post(self, chat_id: str, card: Card) -> str | None:
        """Post to a group chat or channel, likewise."""
        ...


@dataclass(frozen=True)
class Posted:
    """A card that went out as one editable message: where, and for whom it was drawn."""

    platform: str
    chat_id: str
    message_id: str
    card: Card
    locale: str | None
    viewer_id: int | None = None


async def recipient(db, person_id: int, notifiers: dict[str, Notifier]):
    """The person and their accounts some notifier can reach, the one to try first first."""
    async with db.uow(readonly=True) as uow:
        person = await uow.session.get(Person, person_id)
        if person is None:
            return None, []
        found = await reach.accounts(uow, [person], notifiers)
    return person, found[person_id]


async def deliver(db, notifiers: dict[str, Notifier], notices: list[Notice]) -> list[Posted]:
    """Send each notice once, in its recipient's language, to the first of their accounts that
    takes it. Failures are logged, never raised: the action that caused the notice has already
    been committed and stays done."""
    posted = []
    for notice in notices:
        person, accounts = await recipient(db, notice.person_id, notifiers)
        if not accounts:
            log.info("no reachable identity for person %s", notice.person_id)
            continue
        card = notice.card(Translator(person.language))
        refused = False  # by the platform: someone it will not let us message privately
        for identity in accounts:
            try:
                message_id = await notifiers[identity.platform].send(identity, card)
            except DeliveryFailed as error:
                log.warning(
                    "notice to person %s on %s failed: %s",
                    notice.person_id,
                    identity.platform,
                    error.reason,
                )
                refused = True
                continue
            except Exception:  # a notifier bug must not hide an action that is already done
                log.exception("notice to person %s failed unexpectedly", notice.person_id)
                continue
            if message_id is not None:
                posted.append(
                    Posted(
                        identity.platform,
                        identity.external_id,
                        message_id,
                        card,
                        person.language,
                        notice.person_id,
                    )
                )
            break
        else:  # no account took it; said in public only when refused, never after a bug of ours
            if notice.home_of is not None and refused:
                missed = [Missed(accounts, person.display_name)]
                said = _said_in_public(notice)
                await mention_in_home_chat(db, notifiers, notice.home_of, missed, said)
    return posted


def _said_in_public(notice: Notice) -> Callable[[Translator], Card]:
    """A notice as its home-chat mention says it: its text, none of its buttons (they would
    act for whoever pressed them), and how to get such news privately."""

    def card(t: Translator) -> Card:
        told = (notice.in_public or notice.card)(t)
        first, *rest = told.lines or [[]]
        said = Card(lines=[[plain(": "), *first], *rest])
        return said.add(
            italic(t("I can't message you privately: start a chat with me to get this news there."))
        )

    return card


async def post_in_home(
    notifiers: dict[str, Notifier], home: GroupChat, card: Callable[[Translator], Card]
) -> Posted | None:
    """Post a card to a group's home chat, in the chat's language, if a notifier can reach it.
    Failures are logged, never raised, as for notices."""
    notifier = notifiers.get(home.platform)
    if notifier is None:
        return None
    drawn = card(Translator(home.locale))
    try:
        message_id = await notifier.post(home.chat_id, drawn)
    except DeliveryFailed as error:
        log.warning("post to %s chat %s failed: %s", home.platform, home.chat_id, error.reason)
        return None
    except Exception:
        log.exception("post to %s chat %s failed", home.platform, home.chat_id)
        return None
    if message_id is None:
        return None
    return Posted(home.platform, home.chat_id, message_id, drawn, home.locale)


MENTIONS_PER_MESSAGE = 20  # people named in one home-chat message: a crowd makes a few messages


@dataclass(frozen=True)
class Missed:
    """Someone no private message reached: their accounts (the ones a notifier can reach,
    first first) and the name to mention them by."""

    accounts: list[Identity]
    name: str


async def mention_in_home_chat(
    db,
    notifiers: dict[str, Notifier],
    group_id: int,
    missed: list[Missed],
    says: Callable[[Translator], Card],
) -> list[bool]:
    """When a reminder or a notice cannot reach people privately, say it where they can see
    it: a home chat of the group on the platform of one of each person's accounts (the first
    that has one), in the chat's language, behind a mention of them (`says`: what follows the
    mentions, its first line on theirs). The people told the same thing in the same chat are
    named together, MENTIONS_PER_MESSAGE to a message: thirty who never started the bot make
    two messages in a group chat that takes twenty a minute, not thirty. Whether each was
    mentioned."""
    async with db.uow(readonly=True) as uow:
        chats = await home_chats(uow, group_id)
    where: dict[tuple[str, str], list[tuple[int, Identity, str]]] = {}
    homes: dict[tuple[str, str], GroupChat] = {}
    for index, person in enumerate(missed):
        found = (
            (identity, chat)
            for identity in person.accounts
            for chat in chats
            if chat.platform == identity.platform and identity.platform in notifiers
        )
        identity, home = next(found, (None, None))
        if identity is not None and home is not None:
            homes[home.platform, home.chat_id] = home
            where.setdefault((home.platform, home.chat_id), []).append(
                (index, identity, person.name)
            )
    mentioned = [False] * len(missed)
    for place, people in where.items():
        home = homes[place]
        said = says(Translator(home.locale))
        first, *rest = said.lines or [[]]
        for start in range(0, len(people), MENTIONS_PER_MESSAGE):
            named = people[start : start + MENTIONS_PER_MESSAGE]
            spans: list[Span] = []
            for _, identity, name in named:
                spans += [plain(", ")] if spans else []
                spans.append(mention(name, identity.external_id))
            card = Card(lines=[[*spans, *first], *rest])
            if await _posted(notifiers[home.platform], home, card):
                for index, _, _ in named:
                    mentioned[index] = True
    return mentioned


async def _posted(notifier: Notifier, home: GroupChat, card: Card) -> bool:
    try:
        await notifier.post(home.chat_id, card)
    except DeliveryFailed as error:
        log.warning("mention in home chat %s failed: %s", home.chat_id, error.reason)
        return False
    except Exception:
        log.exception("mention in home chat %s failed", home.chat_id)
        return False
    return True
