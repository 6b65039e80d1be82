"""Linking accounts: one person behind a Telegram and a Discord account (docs/cross-platform.md).

`/link` on one platform gives a one-time code; `/link CODE` on another merges the two people
into one, in one transaction. Codes are 8 characters from 31 that cannot be misread (no 0/O,
1/I/L), stored only as a hash, single-use, good for 10 minutes; a person may type 5 wrong codes
an hour, so guessing one of the ~10^12 codes is hopeless. `/unlink` takes the account it is sent
from out of the person again, as a new person with nothing but that account.

The merge hands every row of the newer person to the older one. Tables where a person may hold
one row per thing (a membership per group, a place per activity, a like per post, ...) follow
MERGE_RULES; everything else referring to a person (posts, replies, reports, delivery logs,
card copies, ...) is found through the schema's foreign keys, so a table added later is merged
too; `tests/core/test_linking.py` fails when a new per-thing table has no rule.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import SQLModel, func, select

from core.clock import Clock
from core.errors import conflict, invalid
from core.i18n import N_, PLATFORM_NAMES
from core.models import (
    Block,
    Delivery,
    Dismissal,
    Hello,
    Identity,
    Like,
    LinkAttempt,
    LinkCode,
    Person,
    SeriesMember,
)
from core.services import events, groups
from core.services.events import RosterChange
from core.uow import UnitOfWork

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
LENGTH = 8
LIFETIME = timedelta(minutes=10)
TRIES_PER_HOUR = 5

#: How each table keyed on (person, thing) is merged, by table name: documented in
#: docs/cross-platform.md. "rule" tables are merged by their service before the hand-over.
MERGE_RULES = {
    "membership": "one per group: a ban stays, else the stronger standing and role",
    "registration": "one per activity: the better place, else the earlier; the other seat freed",
    "like": "one per post",
    "block": "one per blocked person; none of oneself",
    "hello": "one per pair; none to oneself",
    "dismissal": "one per dismissed suggestion",
    "delivery": "one per reminder (nobody is reminded twice for having had two accounts)",
    "identity": "every account moves (an account belongs to one person)",
    "card_copy": "every copy moves (each is one message)",
    "seriesmember": "one per series",
}

#: Person settings: the older person's value wins where it has one (it is the account people
#: knew first), else the newer's. Interests are joined.
SETTINGS = (
    "locale",
    "timezone",
    "reminder_offsets",
    "latitude",
    "longitude",
    "preferred_platform",
)


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def shown(code: str) -> str:
    """'ABCDEFGH' as people read it: ABCD-EFGH."""
    return f"{code[:4]}-{code[4:]}"


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def normalize(typed: str) -> str:
    """What a person typed, as the code it means: any case, dashes and spaces ignored."""
    return "".join(ch for ch in typed.upper() if ch.isalnum())


async def issue(uow: UnitOfWork, clock: Clock, person_id: int, platform: str) -> str:
    """A fresh code for this person; any earlier unused one stops working."""
    await uow.session.exec(
        sa.update(LinkCode)
        .where(LinkCode.person_id == person_id, LinkCode.used.is_(False))  # type: ignore[attr-defined]
        .values(used=True)
    )
    code = new_code()
    uow.session.add(
        LinkCode(
            person_id=person_id,
            code_hash=_hash(code),
            platform=platform,
            expires_at=clock.now() + LIFETIME,
        )
    )
    await uow.commit()
    return code


@dataclass(frozen=True)
class Linked:
    person_id: int  # the one person now
    platforms: list[str]
    changes: list[RosterChange]  # seats given up where both accounts held one


async def redeem(uow: UnitOfWork, clock: Clock, person_id: int, typed: str) -> Linked:
    """Join the account that typed the code to the person who asked for it."""
    now = clock.now()
    tries = (
        await uow.session.exec(
            select(func.count())
            .select_from(LinkAttempt)
            .where(LinkAttempt.person_id == person_id, LinkAttempt.at > now - timedelta(hours=1))
        )
    ).one()
    if tries >= TRIES_PER_HOUR:
        raise conflict("link_tries", N_("Too many wrong codes: try again in an hour."))
    code = normalize(typed)
    found = (
        await uow.session.exec(
            select(LinkCode).where(LinkCode.code_hash == _hash(code)).with_for_update()
        )
    ).first()
    if found is None or found.used or found.expires_at <= now:
        uow.session.add(LinkAttempt(person_id=person_id, at=now))
        await uow.commit()  # the failed try counts even though nothing else changes
        raise invalid(
            "link_code_bad",
            N_("That code is wrong, used or expired. Ask for a new one with /link."),
        )
    if found.person_id == person_id:
        raise invalid(
            "link_code_own",
            N_("That is your own code: send it from your account on the other platform."),
        )
    both = await _platforms(uow, found.person_id) & await _platforms(uow, person_id)
    if both:  # two people on one platform are two people: one would take the other's place
        raise invalid(
            "link_same_platform",
            N_(
                "A code links accounts on different platforms, and both of these are on "
                "{platform}: send it from your account on another platform."
            ),
            platform=PLATFORM_NAMES.get(min(both), min(both)),
        )
    found.used = True
    uow.session.add(found)
    writing = await uow.session.get(Person, person_id)
    assert writing is not None
    here, spoken = writing.last_platform, writing.platform_locale
    kept, gone = sorted((found.person_id, person_id))  # the older person stays
    changes = await merge(uow, clock, kept, gone)
    person = await uow.session.get(Person, kept)
    person.last_platform = here  # type: ignore[union-attr]  # where they are writing now
    # and the language their app there speaks
    person.platform_locale = spoken or person.platform_locale  # type: ignore[union-attr]
    uow.session.add(person)
    uow.person_changed(kept)
    uow.person_changed(gone)
    platforms = await _platforms(uow, kept)
    await uow.commit()
    return Linked(kept, sorted(platforms), changes)


async def _platforms(uow: UnitOfWork, person_id: int) -> set[str]:
    """The platforms the person has an account on."""
    rows = await uow.session.exec(select(Identity.platform).where(Identity.person_id == person_id))
    return set(rows.all())


async def merge(uow: UnitOfWork, clock: Clock, kept: int, gone: int) -> list[RosterChange]:
    """Hand everything of `gone` to `kept`, by MERGE_RULES; `gone` is deleted. The caller
    commits."""
    await groups.merge_memberships(uow, kept, gone)
    changes = await events.merge_registrations(uow, clock, kept, gone)
    await _drop_duplicates(uow, kept, gone)
    await _hand_over(uow, kept, gone)
    older = await uow.session.get(Person, kept)
    newer = await uow.session.get(Person, gone)
    assert older is not None and newer is not None
    for name in SETTINGS:
        if getattr(older, name) is None:
            setattr(older, name, getattr(newer, name))
    tags = [t for t in (older.interests + "," + newer.interests).split(",") if t.strip()]
    older.interests = ",".join(dict.fromkeys(t.strip() for t in tags))[:300]
    older.discoverable = older.discoverable and newer.discoverable  # opt-in: both must agree
    older.reminders_enabled = older.reminders_enabled and newer.reminders_enabled
    uow.session.add(older)
    await uow.session.flush()
    await uow.session.delete(newer)
    await uow.session.flush()
    return changes


#: (table, its person column, the columns that say which thing): where one row per person and
#: thing is kept, gone's rows repeating one of kept's are dropped before the hand-over.
REPEATS = (
    (Like, Like.person_id, (Like.post_id,)),
    (Delivery, Delivery.person_id, (Delivery.reminder_id,)),
    (Dismissal, Dismissal.person_id, (Dismissal.kind, Dismissal.item_id)),
    (SeriesMember, SeriesMember.person_id, (SeriesMember.series_id,)),
    (Block, Block.person_id, (Block.blocked_id,)),
    (Block, Block.blocked_id, (Block.person_id,)),
    (Hello, Hello.from_person, (Hello.to_person,)),
    (Hello, Hello.to_person, (Hello.from_person,)),
)


async def _drop_duplicates(uow: UnitOfWork, kept: int, gone: int) -> None:
    """Rows of `gone` that would repeat one of `kept`'s, and blocks and hellos between the two
    (a person does not block or greet themself)."""
    session = uow.session
    pair = {kept, gone}
    await session.exec(
        sa.delete(Block).where(Block.person_id.in_(pair), Block.blocked_id.in_(pair))  # type: ignore[attr-defined]
    )
    await session.exec(
        sa.delete(Hello).where(Hello.from_person.in_(pair), Hello.to_person.in_(pair))  # type: ignore[attr-defined]
    )
    for model, person, thing in REPEATS:
        theirs = sa.tuple_(*thing) if len(thing) > 1 else thing[0]
        mine = select(*thing).where(person == kept)
        await session.exec(sa.delete(model).where(person == gone, theirs.in_(mine)))  # type: ignore[union-attr]
    await session.flush()


def person_columns() -> list[sa.Column]:
    """Every column of the schema that refers to a person."""
    return [
        fk.parent
        for table in SQLModel.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name == "person" and table.name != "person"
    ]


async def _hand_over(uow: UnitOfWork, kept: int, gone: int) -> None:
    for column in person_columns():
        await uow.session.exec(
            sa.update(column.table).where(column == gone).values({column.name: kept})
        )
    await uow.session.flush()  # rows read before (the views of changed rosters) keep their values


async def unlink(
    uow: UnitOfWork, clock: Clock, person_id: int, platform: str, external_id: str
) -> int:
    """Take this account out of the person: it becomes a new person of its own, with the
    person's language and timezone and nothing else; all the rest stays with the other
    account(s). Returns the new person's id."""
    identities = (
        await uow.session.exec(select(Identity).where(Identity.person_id == person_id))
    ).all()
    if len(identities) < 2:
        raise invalid("unlink_single", N_("This is your only account: there is nothing to unlink."))
    person = await uow.session.get(Person, person_id)
    assert person is not None
    mine = next(i for i in identities if (i.platform, i.external_id) == (platform, external_id))
    alone = Person(
        display_name=person.display_name,
        locale=person.locale,
        platform_locale=person.platform_locale,
        timezone=person.timezone,
        created_at=clock.now(),
    )
    uow.session.add(alone)
    await uow.session.flush()
    mine.person_id = alone.id  # type: ignore[assignment]
    uow.session.add(mine)
    if person.preferred_platform == platform:
        person.preferred_platform = None
    if person.last_platform == platform:
        person.last_platform = None
    uow.session.add(person)
    uow.person_changed(person_id)
    await uow.commit()
    return alone.id  # type: ignore[return-value]
