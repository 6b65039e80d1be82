"""Interest groups: create, find, join and leave, roles, join requests and bans."""

from __future__ import annotations

import functools
import hashlib
import math
import re
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from core import permissions, work
from core.clock import Clock
from core.db import dialect_of, folded
from core.errors import InvalidInput, conflict, forbidden, invalid, not_found
from core.i18n import N_
from core.models import Group, Identity, Membership, MembershipStatus, Person, Role, Visibility
from core.services import tallies
from core.uow import UnitOfWork
from core.validation import (
    BARS,
    as_group_number,
    check_timezone,
    clean_text,
    is_id,
    one_line,
    partition_bar,
    slugify,
)

MAX_TAGS = 10


@dataclass(frozen=True)
class GroupSummary:
    group: Group
    member_count: int
    membership: Membership | None

    @property
    def is_member(self) -> bool:
        return permissions.is_active(self.membership)

    @property
    def is_banned(self) -> bool:
        return permissions.is_banned(self.membership)

    @property
    def is_pending(self) -> bool:
        return self.membership is not None and self.membership.status == MembershipStatus.PENDING


@dataclass(frozen=True)
class JoinResult:
    group: Group
    status: str  # joined | already_member | requested | already_requested


REQUEST_COOL_DOWN = timedelta(hours=24)  # after a declined request, before the next one
WITHDRAWN = N_("{name} withdrew their request to join {group}.")

# Durable notices (core.notices, core.membership_news), written with the change they tell of:
ASKED = "asked"  # the job kind of telling an admin of a join request ("group:person:admin")
MEMBERSHIP = "membership"  # of telling someone of their membership ("group:person:news")
APPROVED, DECLINED, BANNED, UNBANNED, OWNER = "approved", "declined", "banned", "unbanned", "owner"


async def _tell_member(uow: UnitOfWork, group: Group, person_id: int, news: str) -> None:
    """The person hears `news` of their membership (one of APPROVED...OWNER), durably: each
    piece of news its own job, told if it still holds when the worker runs."""
    key = f"{group.id}:{person_id}:{news}"
    await work.schedule(uow, MEMBERSHIP, key, work.AT_ONCE)


#: Who decides a group's join requests and hears of its reports (permissions.is_admin, in SQL).
ADMIN = sa.and_(
    Membership.status == MembershipStatus.ACTIVE,
    Membership.role.in_((Role.OWNER, Role.ADMIN)),  # type: ignore[attr-defined]
)


def admin_keys() -> sa.Select:
    """A job key for each admin of the `group_id` parameter's group: the `prefix` parameter
    followed by the admin's id (its one column, "key", for work.upsert_each)."""
    table = Membership.__table__  # type: ignore[attr-defined]
    admin = sa.cast(table.c.person_id, sa.String)
    key = (sa.bindparam("prefix", type_=sa.String) + admin).label("key")
    return select(key).where(table.c.group_id == sa.bindparam("group_id"), ADMIN)


@functools.cache
def _ask_admins(dialect: str) -> sa.Insert:
    """An "asked" job for each admin of the group, in one statement. Built once."""
    return work.upsert_each(dialect, ASKED, admin_keys())


async def _tell_admins(uow: UnitOfWork, group: Group, requester_id: int) -> None:
    params = {"group_id": group.id, "prefix": f"{group.id}:{requester_id}:"}
    await work.schedule_each(uow, ASKED, _ask_admins, params)


def parse_tags(text: str | list[str] | None) -> list[str]:
    items = text if isinstance(text, list) else re.split(r"[,\s#]+", text or "")
    tags = []
    for raw in items:
        tag = raw.strip().lstrip("#").lower()
        if tag and tag not in tags:
            if len(tag) > 24:
                raise invalid("tag_too_long", N_("A tag can have at most 24 characters."))
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise invalid("too_many_tags", N_("A group can have at most {limit} tags."), limit=MAX_TAGS)
    return tags


# the reads of nearly every command and click, built once with parameters: building a
# statement and working out its cache key cost more than running it on SQLite
_MEMBERSHIP = select(Membership).where(
    Membership.group_id == sa.bindparam("group_id"),
    Membership.person_id == sa.bindparam("person_id"),
)


# A group is looked up by its slug first (an index), then by its name in any letter case (a
# scan; folded as core.db.folded does): the name only finds what no slug can, a name with no
# slug (validation.slugify) such as "周末 徒步" or "读书会2". Both built once (per dialect).
_BY_SLUGS = select(Group).where(Group.slug.in_(sa.bindparam("slugs", expanding=True)))


@functools.cache
def _by_names(dialect: str) -> sa.Select:
    return select(Group).where(
        folded(dialect, Group.name).in_(sa.bindparam("names", expanding=True))
    )


async def membership_of(uow: UnitOfWork, group_id: int, person_id: int) -> Membership | None:
    params = {"group_id": group_id, "person_id": person_id}
    return (await uow.session.exec(_MEMBERSHIP, params=params)).first()


async def memberships_of(
    uow: UnitOfWork, group_id: int, person_ids: list[int]
) -> dict[int, Membership]:
    """membership_of for many people at once (those with none are left out)."""
    rows = await uow.session.exec(
        select(Membership).where(
            Membership.group_id == group_id,
            Membership.person_id.in_(person_ids),  # type: ignore[attr-defined]
        )
    )
    return {m.person_id: m for m in rows.all()}


class AmbiguousGroup(InvalidInput):
    """Several groups match a loose name: the person must pick (`candidates`, best first)."""

    code = "group_ambiguous"

    def __init__(self, text: str, candidates: list[Group]) -> None:
        names = ", ".join(group.name for group in candidates)
        super().__init__(
            N_("Several groups match “{text}”: {names}. Which one?"), text=text[:80], names=names
        )
        self.candidates = candidates


async def find_group(uow: UnitOfWork, ref: str) -> Group:
    """A group by slug, name (any letter case) or id ('#3' or '3'); failing those, by the
    start of a word of its name or of its slug ('chess' finds "Chess Club",
    'run' finds "Trail Runners"): one match is the group, several raise AmbiguousGroup."""
    text = one_line(ref or "")
    if not text:
        raise invalid(
            "group_missing", N_("Which group? Add its name to the command (/groups lists them).")
        )
    number = as_group_number(text)
    if number is not None:
        group = await uow.session.get(Group, number)
        if group is not None:
            return group
    slug = slugify(text)
    if slug:
        group = (await uow.session.exec(_BY_SLUGS, params={"slugs": [slug]})).first()
        if group is not None:
            return group
    names = {"names": [text.lower()]}
    group = (await uow.session.exec(_by_names(dialect_of(uow)), params=names)).first()
    if group is not None:
        return group
    found = await _by_words(uow, text)
    if len(found) == 1:
        return found[0]
    if found:
        raise AmbiguousGroup(text, found)
    raise not_found("group", name=text[:80])


PREFIX_WORDS = 5  # the longest group name a message may start with, in words, without a "|"


async def find_group_at_start(uow: UnitOfWork, text: str) -> tuple[Group, str]:
    """The group a message starts with, and the rest of the message as typed (its line breaks
    kept): '/post book club Hello' is for "Book club" when that group exists, not for a group
    found by "book" with "club Hello" as its text. The longest run of first words (up to
    PREFIX_WORDS) that names a group exactly wins; then a name ended by '|' ('Trail Runners
    | Hi'); failing both, the first word (or what comes before the '|'), found as `find_group`
    finds it. One '|' right after the name is dropped from the rest."""
    text = text.strip()
    words = list(re.finditer(r"\S+", text))[:PREFIX_WORDS]
    heads = [
        (" ".join(w.group() for w in words[:k]), text[words[k - 1].end() :])
        for k in range(len(words), 0, -1)
    ]
    piped, bar, after = partition_bar(text)
    if bar:
        heads.append((one_line(piped), after))
    typed = [head.lower() for head, _ in heads if head]
    slugs = sorted({*typed, *filter(None, map(slugify, typed))})
    lookups = ((_BY_SLUGS, {"slugs": slugs}), (_by_names(dialect_of(uow)), {"names": typed}))
    for statement, params in lookups if typed else ():
        found = (await uow.session.exec(statement, params=params)).all()
        for head, rest in heads:  # the name or the slug as typed: a slug made of the words
            for group in found:  # drops what is not a letter or digit ("hiking :)" -> "hiking")
                if head.lower() in (group.name.lower(), group.slug):
                    return group, _after_name(rest)
    ref, rest = (one_line(piped), after) if bar else heads[-1] if heads else ("", "")
    return await find_group(uow, ref), _after_name(rest)


def _after_name(rest: str) -> str:
    rest = rest.strip()
    return rest[1:].strip() if BARS.match(rest) else rest


CANDIDATES = 8


async def _by_words(uow: UnitOfWork, text: str) -> list[Group]:
    """Groups a word of whose name (or whose slug) starts with `text`, biggest first."""
    word = text.lower().replace("%", "").replace("_", "")
    if len(word) < 2:
        return []
    name = folded(dialect_of(uow), Group.name)
    slug = slugify(word)  # none for '读书': no slug starting with "" matches every group
    rows = await uow.session.exec(
        select(Group)
        .where(
            sa.or_(
                name.like(f"{word}%"),
                name.like(f"% {word}%"),
                *([Group.slug.like(f"{slug}%")] if slug else []),  # type: ignore[attr-defined]
            )
        )
        .order_by(Group.members.desc(), Group.id)  # type: ignore[attr-defined]
        .limit(CANDIDATES)
    )
    return list(rows.all())


async def create_group(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    *,
    name: str,
    description: str = "",
    tags: str | list[str] | None = None,
    private: bool = False,
    timezone: str = "UTC",
) -> Group:
    """The creator becomes the owner."""
    name = one_line(clean_text(name, field="name", min_len=2, max_len=80))
    description = clean_text(description, field="description", min_len=0, max_len=1000)
    slug = slugify(name) or _stand_in_slug(name)
    tag_list = parse_tags(tags)
    timezone = check_timezone(timezone)
    if as_group_number(name) is not None:  # '/join #1' would open group number 1
        raise invalid(
            "name_is_number",
            N_("A group's name can't be just a number: “{name}” reads as group #{number}."),
            name=name,
            number=as_group_number(name),
        )
    existing = (
        await uow.session.exec(
            select(Group.name).where(
                sa.or_(Group.slug == slug, folded(dialect_of(uow), Group.name) == name.lower())
            )
        )
    ).first()
    if existing is not None and existing.lower() != name.lower():  # another name, same slug
        raise conflict(
            "slug_taken",
            N_("“{name}” would be typed “{slug}”, as the group {other} is: pick another name."),
            name=name,
            slug=slug,
            other=existing,
        )
    if existing is not None:
        raise conflict("group_exists", N_("There is already a group called “{name}”."), name=name)
    now = clock.now()
    group = Group(
        slug=slug,
        name=name,
        description=description,
        tags=",".join(tag_list),
        visibility=Visibility.PRIVATE if private else Visibility.PUBLIC,
        timezone=timezone,
        created_by=actor_id,
        created_at=now,
    )
    uow.session.add(group)
    try:
        await uow.session.flush()
    except IntegrityError:  # someone created the same name a moment ago (PostgreSQL race)
        await uow.rollback()
        raise conflict(
            "group_exists", N_("There is already a group called “{name}”."), name=name
        ) from None
    owner = Membership(group_id=group.id, person_id=actor_id, created_at=now)
    await tallies.move_membership(uow, owner, MembershipStatus.ACTIVE, Role.OWNER)
    await uow.commit()
    return group


def _stand_in_slug(name: str) -> str:
    """The unique key stored in the slug column of a group whose name has no slug (slugify):
    made from the name in any letter case, so the same name gives the same key and a
    different one (almost surely) does not. It is no slug of the name: hints name such a
    group by its name (Group.handle)."""
    digest = hashlib.blake2s(name.lower().encode(), digest_size=5).hexdigest()
    return f"group-{digest}"


async def summaries(uow: UnitOfWork, groups: list[Group], viewer_id: int) -> list[GroupSummary]:
    ids = [g.id for g in groups]
    mine = await uow.session.exec(
        select(Membership).where(
            Membership.person_id == viewer_id,
            Membership.group_id.in_(ids),  # type: ignore[attr-defined]
        )
    )
    by_group = {m.group_id: m for m in mine.all()}
    return [GroupSummary(g, g.members, by_group.get(g.id)) for g in groups]  # type: ignore[arg-type]


async def search_groups(
    uow: UnitOfWork, viewer_id: int, query: str = "", *, limit: int = 20
) -> list[GroupSummary]:
    """Groups whose name, slug, tags or description contain the query, biggest first.

    Private groups are listed (people can ask to join them) but show nothing else.
    """
    statement = select(Group)
    dialect = dialect_of(uow)
    words = one_line(query).lower().split()
    for word in words[:5]:
        pattern = f"%{word}%"
        statement = statement.where(
            sa.or_(
                folded(dialect, Group.name).like(pattern),
                Group.slug.like(pattern),  # type: ignore[attr-defined]
                Group.tags.like(pattern),  # type: ignore[attr-defined]
                folded(dialect, Group.description).like(pattern),
            )
        )
    statement = statement.order_by(
        Group.members.desc(),  # type: ignore[attr-defined]
        folded(dialect, Group.name),
        Group.id,
    ).limit(limit)
    return await summaries(uow, list((await uow.session.exec(statement)).all()), viewer_id)


async def group_summary(uow: UnitOfWork, viewer_id: int, ref: str) -> GroupSummary:
    group = await find_group(uow, ref)
    return (await summaries(uow, [group], viewer_id))[0]


async def my_groups(
    uow: UnitOfWork, person_id: int, *, requested: bool = False
) -> list[GroupSummary]:
    """The groups the person is a member of; with `requested`, also those they asked to join
    and wait for (is_pending): a request is not a membership, its posts and activities are not
    theirs yet, but /leave withdraws it (withdraw_request)."""
    statuses = [MembershipStatus.ACTIVE] + ([MembershipStatus.PENDING] if requested else [])
    rows = await uow.session.exec(
        select(Group)
        .join(Membership, Membership.group_id == Group.id)  # type: ignore[arg-type]
        .where(
            Membership.person_id == person_id,
            Membership.status.in_(statuses),  # type: ignore[attr-defined]
        )
        .order_by(Group.name)
    )
    return await summaries(uow, list(rows.all()), person_id)


async def join_group(uow: UnitOfWork, clock: Clock, actor_id: int, ref: str) -> JoinResult:
    """Public groups: join at once. Private groups: a request that an admin approves."""
    group = await find_group(uow, ref)
    # a double-tapped join button: the second tap waits here and sees the first one's row
    await uow.session.exec(
        select(Group.id).where(Group.id == group.id).with_for_update(key_share=True)
    )
    membership = await membership_of(uow, group.id, actor_id)  # type: ignore[arg-type]
    if permissions.is_banned(membership):
        raise forbidden("banned", N_("You are banned from {group}."), group=group.name)
    if permissions.is_active(membership):
        return JoinResult(group, "already_member")
    if membership is not None and membership.status == MembershipStatus.PENDING:
        return JoinResult(group, "already_requested")
    status = (
        MembershipStatus.PENDING
        if group.visibility == Visibility.PRIVATE
        else MembershipStatus.ACTIVE
    )
    now = clock.now()
    if membership is not None and membership.status == MembershipStatus.DECLINED:
        wait = membership.created_at + REQUEST_COOL_DOWN - now
        if status == MembershipStatus.PENDING and wait > timedelta(0):
            raise conflict(
                "request_cooling_down",
                N_("Your request to join {group} was declined. You can ask again in {hours} h."),
                group=group.name,
                hours=math.ceil(wait.total_seconds() / 3600),
            )
    if membership is None:
        membership = Membership(group_id=group.id, person_id=actor_id, created_at=now)
    elif status == MembershipStatus.PENDING:
        membership.created_at = now  # requests wait in the order they were made
    # a new request, or a join nobody decided: an old decision (a withdrawal among them) is gone
    membership.decided_by = None
    await tallies.move_membership(uow, membership, status, Role.MEMBER)
    if status == MembershipStatus.PENDING:
        await _tell_admins(uow, group, actor_id)
    await uow.commit()
    return JoinResult(group, "requested" if status == MembershipStatus.PENDING else "joined")


async def withdraw_request(uow: UnitOfWork, actor_id: int, ref: str) -> Group | None:
    """Take back one's waiting request to join a group (/leave before an admin decided); None
    when none waits (then /leave is leaving). The admins' buttons on it then say so."""
    group = await find_group(uow, ref)
    membership = await membership_of(uow, group.id, actor_id)  # type: ignore[arg-type]
    if membership is None or membership.status != MembershipStatus.PENDING:
        return None
    membership.decided_by = actor_id
    await tallies.move_membership(uow, membership, MembershipStatus.LEFT, Role.MEMBER)
    await uow.commit()
    return group


async def leave_group(uow: UnitOfWork, actor_id: int, ref: str) -> Group:
    """Leave a group; the caller commits (events.leave_and_release frees the seats first)."""
    group = await find_group(uow, ref)
    membership = await membership_of(uow, group.id, actor_id)  # type: ignore[arg-type]
    if not permissions.is_active(membership):
        raise conflict("not_member", N_("You are not in {group}."), group=group.name)
    if membership.role == Role.OWNER:
        raise conflict(
            "owner_cannot_leave",
            N_("You own {group}: make someone else the owner before leaving."),
            group=group.name,
        )
    await tallies.move_membership(uow, membership, MembershipStatus.LEFT, Role.MEMBER)
    return group


class AmbiguousMember(InvalidInput):
    """Several members of a group go by the name given: the person must pick one by number."""

    code = "member_ambiguous"

    def __init__(
        self, group: Group, text: str, candidates: list[tuple[Person, str | None]]
    ) -> None:
        choices = ", ".join(
            f"#{person.id} {person.display_name}" + (f" (@{username})" if username else "")
            for person, username in candidates
        )
        super().__init__(
            N_(
                "Several members of {group} are called “{name}”: {choices}. "
                "Name one by its number, like #{example}."
            ),
            group=group.name,
            name=text[:80],
            choices=choices,
            example=candidates[0][0].id,
        )
        self.candidates = [person for person, _ in candidates]


async def find_member(uow: UnitOfWork, group: Group, who: str) -> tuple[Person, Membership]:
    """A person in a group by number ('#12', as a numbered choice offers), display name or
    platform username ('@maya'), any letter case. Two people of one name are never guessed
    between: that raises AmbiguousMember."""
    text = one_line(who)
    digits = text[1:]
    if text.startswith("#") and digits.isascii() and digits.isdigit() and is_id(int(digits)):
        membership = await membership_of(uow, group.id, int(digits))  # type: ignore[arg-type]
        person = await uow.session.get(Person, int(digits)) if membership else None
        if person is None or membership is None:
            raise not_found("person", name=who)
        return person, membership
    name = text.lstrip("@").lower()
    rows = await uow.session.exec(
        select(Person, Membership, Identity.username)
        .join(Membership, Membership.person_id == Person.id)  # type: ignore[arg-type]
        .outerjoin(Identity, Identity.person_id == Person.id)  # type: ignore[arg-type]
        .where(
            Membership.group_id == group.id,
            sa.or_(
                folded(dialect_of(uow), Person.display_name) == name,
                folded(dialect_of(uow), Identity.username) == name,
            ),
        )
        .order_by(Person.id)
    )
    found: dict[int, tuple[Person, Membership, str | None]] = {}
    for person, membership, username in rows.all():
        found.setdefault(person.id, (person, membership, username))  # type: ignore[arg-type]
    if not found:
        raise not_found("person", name=who)
    if len(found) > 1:
        raise AmbiguousMember(group, text, [(p, u) for p, _, u in found.values()])
    person, membership, _ = next(iter(found.values()))
    return person, membership


async def pending_requests(uow: UnitOfWork, actor_id: int, ref: str) -> tuple[Group, list[Person]]:
    group = await find_group(uow, ref)
    permissions.require_admin(group, await membership_of(uow, group.id, actor_id))  # type: ignore[arg-type]
    rows = await uow.session.exec(
        select(Person)
        .join(Membership, Membership.person_id == Person.id)  # type: ignore[arg-type]
        .where(Membership.group_id == group.id, Membership.status == MembershipStatus.PENDING)
        .order_by(Membership.created_at)
    )
    return group, list(rows.all())


async def groups_with_requests(uow: UnitOfWork, actor_id: int) -> list[tuple[Group, int]]:
    """The groups the person runs (owner or admin) where join requests wait, each with how
    many, by name: what /requests without a group offers to pick from."""
    runs = select(Membership.group_id).where(Membership.person_id == actor_id, ADMIN)
    rows = await uow.session.exec(
        select(Group, sa.func.count(Membership.id))  # type: ignore[arg-type]
        .join(Membership, Membership.group_id == Group.id)  # type: ignore[arg-type]
        .where(
            Membership.status == MembershipStatus.PENDING,
            Group.id.in_(runs),  # type: ignore[union-attr]
        )
        .group_by(Group.id)
        .order_by(Group.name, Group.id)
    )
    return [(group, count) for group, count in rows.all()]


def withdrew(membership: Membership) -> bool:
    """Whether the person took back their own join request (/leave while it waited)."""
    return (
        membership.status == MembershipStatus.LEFT and membership.decided_by == membership.person_id
    )


async def _requests_of(uow: UnitOfWork, actor_id: int, group_id: int) -> Group:
    """The group of a join request's buttons, for one of its admins."""
    group = await uow.session.get(Group, group_id) if is_id(group_id) else None
    if group is None:
        raise not_found("group", name=f"#{group_id}")
    permissions.require_admin(group, await membership_of(uow, group_id, actor_id))
    return group


async def decide_request(
    uow: UnitOfWork,
    clock: Clock,
    actor_id: int,
    group_id: int,
    person_id: int,
    *,
    approve: bool,
) -> tuple[Group, Person]:
    """Approve or decline a join request. A declined person may ask again after
    REQUEST_COOL_DOWN; the first admin to decide wins, the others are told it is decided (or
    that the person withdrew it)."""
    group = await _requests_of(uow, actor_id, group_id)
    membership = await membership_of(uow, group_id, person_id) if is_id(person_id) else None
    decided = {
        MembershipStatus.ACTIVE: N_("{name}'s request was already approved."),
        MembershipStatus.DECLINED: N_("{name}'s request was already declined."),
    }
    if membership is not None and membership.status in decided:  # another admin was quicker
        person = await uow.session.get(Person, person_id)
        raise conflict("request_decided", decided[membership.status], name=person.display_name)  # type: ignore[union-attr]
    if membership is not None and withdrew(membership):
        person = await uow.session.get(Person, person_id)
        raise conflict("request_withdrawn", WITHDRAWN, name=person.display_name, group=group.name)  # type: ignore[union-attr]
    if membership is None or membership.status != MembershipStatus.PENDING:
        raise not_found("request")
    membership.decided_by = actor_id
    if approve:
        await tallies.move_membership(uow, membership, MembershipStatus.ACTIVE)
    else:
        membership.created_at = clock.now()  # the cool-down counts from the decision
        await tallies.move_membership(uow, membership, MembershipStatus.DECLINED)
    await _tell_member(uow, group, person_id, APPROVED if approve else DECLINED)
    person = await uow.session.get(Person, person_id)
    await uow.commit()
    return group, person  # type: ignore[return-value]


@dataclass(frozen=True)
class Decided:
    """What became of a join request, as its admins' buttons show it once it is decided."""

    person: Person
    membership: Membership
    decider: Person | None  # None: decided before deciders were kept


async def decided_request(uow: UnitOfWork, actor_id: int, group_id: int, person_id: int) -> Decided:
    """A request no longer waiting, for one of the group's admins: raises not_found while it
    waits, or when there was none."""
    await _requests_of(uow, actor_id, group_id)
    membership = await membership_of(uow, group_id, person_id) if is_id(person_id) else None
    if membership is None or membership.status == MembershipStatus.PENDING:
        raise not_found("request")
    person = await uow.session.get(Person, person_id)
    decider = membership.decided_by
    return Decided(person, membership, await uow.session.get(Person, decider) if decider else None)  # type: ignore[arg-type]


async def ban_member(uow: UnitOfWork, actor_id: int, ref: str, who: str) -> tuple[Group, Person]:
    """Ban someone from a group; the caller commits (events.ban_and_release frees their seats in
    the same transaction, promoting the waitlist)."""
    group = await find_group(uow, ref)
    actor_membership = await membership_of(uow, group.id, actor_id)  # type: ignore[arg-type]
    permissions.require_admin(group, actor_membership)
    person, target = await find_member(uow, group, who)
    if person.id == actor_id:
        raise invalid("ban_self", N_("You can't ban yourself."))
    permissions.require_can_manage_member(actor_membership, target)
    if permissions.is_banned(target):  # told once already; a second ban changes nothing
        raise conflict(
            "already_banned",
            N_("{name} is already banned from {group}."),
            name=person.display_name,
            group=group.name,
        )
    await tallies.move_membership(uow, target, MembershipStatus.BANNED, Role.MEMBER)
    await _tell_member(uow, group, person.id, BANNED)  # type: ignore[arg-type]
    return group, person


async def unban_member(uow: UnitOfWork, actor_id: int, ref: str, who: str) -> tuple[Group, Person]:
    """Lift a ban: the person may join (or ask to join) again."""
    group = await find_group(uow, ref)
    permissions.require_admin(group, await membership_of(uow, group.id, actor_id))  # type: ignore[arg-type]
    person, target = await find_member(uow, group, who)
    if not permissions.is_banned(target):
        raise conflict(
            "not_banned",
            N_("{name} is not banned from {group}."),
            name=person.display_name,
            group=group.name,
        )
    await tallies.move_membership(uow, target, MembershipStatus.LEFT, Role.MEMBER)
    await _tell_member(uow, group, person.id, UNBANNED)  # type: ignore[arg-type]
    await uow.commit()
    return group, person


ROLE_ALREADY = {
    Role.ADMIN: N_("{name} is already an admin of {group}."),
    Role.MEMBER: N_("{name} is not an admin of {group}."),
}


async def set_role(
    uow: UnitOfWork, actor_id: int, ref: str, who: str, role: Role
) -> tuple[Group, Person]:
    """The owner promotes members to admin and back; or hands ownership over. Asking for the
    role someone has already changes nothing and says so (ROLE_ALREADY)."""
    group = await find_group(uow, ref)
    actor_membership = await membership_of(uow, group.id, actor_id)  # type: ignore[arg-type]
    if actor_membership is None or actor_membership.role != Role.OWNER:
        raise forbidden(
            "not_owner", N_("Only the owner of {group} can change roles."), group=group.name
        )
    person, target = await find_member(uow, group, who)
    if person.id == actor_id:  # the owner themself: nothing to hand over or change
        raise invalid("role_self", N_("You own {group} already."), group=group.name)
    if not permissions.is_active(target):
        raise invalid(
            "bad_role_target",
            N_("{name} is not a member you can change."),
            name=person.display_name,
        )
    if target.role == role:  # the owner is never the target: only admins and members are here
        raise conflict(
            "role_unchanged", ROLE_ALREADY[role], name=person.display_name, group=group.name
        )
    target.role = role
    if role == Role.OWNER:
        actor_membership.role = Role.ADMIN
        uow.session.add(actor_membership)
        await _tell_member(uow, group, person.id, OWNER)  # type: ignore[arg-type]
    uow.session.add(target)
    await uow.commit()
    return group, person


async def set_members_can_create_events(
    uow: UnitOfWork, actor_id: int, ref: str, allowed: bool
) -> Group:
    group = await find_group(uow, ref)
    permissions.require_admin(group, await membership_of(uow, group.id, actor_id))  # type: ignore[arg-type]
    group.members_can_create_events = allowed
    uow.session.add(group)
    await uow.commit()
    return group


async def set_timezone(uow: UnitOfWork, actor_id: int, ref: str, timezone: str) -> Group:
    """The zone new activities' times are typed in (admins). Activities already made keep their
    instant and their own zone: changing it never moves anything."""
    group = await find_group(uow, ref)
    permissions.require_admin(group, await membership_of(uow, group.id, actor_id))  # type: ignore[arg-type]
    group.timezone = check_timezone(timezone)
    uow.session.add(group)
    await uow.commit()
    return group


#: When two merged accounts were both in one group (docs/cross-platform.md): a ban stays a ban
#: (merging must not undo it); otherwise the stronger standing and the stronger role win.
STANDING = {
    MembershipStatus.BANNED: 5,
    MembershipStatus.ACTIVE: 4,
    MembershipStatus.PENDING: 3,
    MembershipStatus.DECLINED: 2,
    MembershipStatus.LEFT: 1,
}
RANK = {Role.OWNER: 3, Role.ADMIN: 2, Role.MEMBER: 1}


async def merge_memberships(uow: UnitOfWork, kept: int, gone: int) -> None:
    """Before `gone`'s rows are handed to `kept` (core.services.linking): one membership per
    group, by the rules above, member counts kept true. The caller commits."""
    theirs = (await uow.session.exec(select(Membership).where(Membership.person_id == gone))).all()
    for other in theirs:
        mine = await membership_of(uow, other.group_id, kept)
        if mine is None:
            continue  # simply handed over
        status = max(mine.status, other.status, key=lambda s: STANDING[MembershipStatus(s)])
        role = max(mine.role, other.role, key=lambda r: RANK[Role(r)])
        if status == MembershipStatus.BANNED:
            role = Role.MEMBER
        await tallies.move_membership(uow, other, MembershipStatus.LEFT)  # counted once, below
        await uow.session.delete(other)
        await uow.session.flush()
        await tallies.move_membership(uow, mine, status, role)
        mine.created_at = min(mine.created_at, other.created_at)
        uow.session.add(mine)
    await uow.session.flush()
