"""Discovery: popular activities nearby, recommendations, and companions — all opt-in.

The scores are documented in docs/discovery.md; the weights live here, once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import func, select

from core import permissions, work
from core.clock import Clock
from core.errors import conflict, forbidden, invalid, not_found
from core.i18n import N_
from core.models import (
    Block,
    Dismissal,
    Event,
    EventStatus,
    Group,
    Hello,
    HelloStatus,
    Identity,
    Membership,
    MembershipStatus,
    Person,
    Post,
    Registration,
    RegistrationStatus,
    Visibility,
    as_stored,
    epoch_seconds,
)
from core.parsing import NONE_WORDS
from core.recent import Recent
from core.services import tallies
from core.services.events import EventView, views_of, visible_to
from core.services.groups import find_group, membership_of
from core.services.posts import engagement
from core.uow import UnitOfWork
from core.validation import is_id

EARTH_KM = 6371.0
DEFAULT_RADIUS_KM = 10.0
MAX_RADIUS_KM = 200.0
PAGE_SIZE = 5
KINDS = ("group", "post", "event")
# Durable notices (core.notices, core.hello_news), written with the hi they tell of:
HELLO = "hello"  # the job kind of telling of a hi ("hello:news"): its asking, its acceptance
HI_ASKED, HI_ACCEPTED = "asked", "accepted"
DAY_S = 86400.0

# /nearby: score = sum of weight x term; every term is in [0, ~5].
W_SIGNUPS, W_SPEED, W_FILL, W_SOON, W_NEAR = 1.0, 1.5, 1.0, 1.0, 2.0


def distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance (haversine)."""
    return ruler(lat1, lng1)(lat2, lng2)


def ruler(lat: float, lng: float) -> Callable[[float, float], float]:
    """Great-circle distances in km from one point (haversine), that point's terms worked out
    once: /nearby measures a few hundred activities from the same centre."""
    radians, sin, cos, asin, sqrt = math.radians, math.sin, math.cos, math.asin, math.sqrt
    p1, l1 = radians(lat), radians(lng)
    cos1 = cos(p1)

    def km(lat2: float, lng2: float) -> float:
        p2 = radians(lat2)
        a = sin((p2 - p1) / 2) ** 2 + cos1 * cos(p2) * sin((radians(lng2) - l1) / 2) ** 2
        return 2 * EARTH_KM * asin(min(1.0, sqrt(a)))

    return km


def bounding_box(lat: float, lng: float, radius_km: float) -> tuple[float, float, float, float]:
    """A lat/lng box around the circle: the index narrows to it, haversine does the rest."""
    dlat = math.degrees(radius_km / EARTH_KM)
    dlng = math.degrees(radius_km / (EARTH_KM * max(0.01, math.cos(math.radians(lat)))))
    return lat - dlat, lat + dlat, lng - dlng, lng + dlng


def popularity(
    confirmed: int, heat: float, capacity: int | None, days: float, nearness: float = 0.0
) -> float:
    """How much an activity deserves a place at the top (docs/discovery.md). `heat` is the
    sign-up speed (core.services.tallies.heat), `days` how far off the start is (past it,
    "soon" grows no more)."""
    fill = min(1.0, confirmed / capacity) if capacity else 0.0
    return (
        W_SIGNUPS * math.log1p(confirmed)
        + W_SPEED * math.log1p(heat)
        + W_FILL * fill
        + W_SOON / (1 + max(0.0, days) / 7)
        + W_NEAR * nearness
    )


@dataclass(frozen=True)
class Nearby:
    view: EventView
    distance_km: float
    score: float


@dataclass(frozen=True)
class NearbyPage:
    items: list[Nearby]
    page: int
    pages: int
    radius_km: float


def check_radius(radius_km: float) -> float:
    if not 1 <= radius_km <= MAX_RADIUS_KM:  # as the message says (and NaN fails)
        raise invalid(
            "bad_radius",
            N_("The radius must be between 1 and {limit} km."),
            limit=int(MAX_RADIUS_KM),
        )
    return radius_km


def _longitude_ranges(west: float, east: float) -> list[tuple[float, float]]:
    """The box's longitudes as ranges: two for a box across the antimeridian (±180°)."""
    if east - west >= 360:
        return [(-180.0, 180.0)]
    if west < -180:
        return [(west + 360, 180.0), (-180.0, east)]
    if east > 180:
        return [(west, 180.0), (-180.0, east - 360)]
    return [(west, east)]


AREA_CELL_DEG = 0.01  # /nearby caches areas per cell of this size: about 1 km
AREA_MARGIN_KM = 1.0  # more than a cell's half-diagonal: any centre in the cell is covered


@dataclass
class AreaCache(Recent[tuple, list[sa.Row]]):
    """Recently read areas for /nearby: the upcoming activities around a ~1 km cell, with what
    the score and the visibility check need, for `ttl`.

    Reading a city's few hundred activities is most of a /nearby call; the ranking they feed
    moves slowly (sign-up heat fades by the day), and the counts on the page shown are read
    fresh. Activities created, edited or cancelled through this process clear the cache
    (`forget`); other processes' changes show within `ttl`.
    """

    ttl: timedelta = timedelta(seconds=30)
    size: int = 512


async def nearby(
    uow: UnitOfWork,
    clock: Clock,
    viewer_id: int,
    latitude: float,
    longitude: float,
    radius_km: float = DEFAULT_RADIUS_KM,
    page: int = 1,
    areas: AreaCache | None = None,
) -> NearbyPage:
    """Upcoming activities within the radius that the viewer may see, most popular first.
    With `areas`, the activities around come from (and go to) that cache."""
    check_radius(radius_km)
    now = clock.now()
    if areas is None:
        rows = await area(uow, now, bounding_box(latitude, longitude, radius_km))
    else:
        cell = (round(latitude / AREA_CELL_DEG), round(longitude / AREA_CELL_DEG), radius_km)
        rows = areas.get(cell, now)  # type: ignore[assignment]
        if rows is None:
            since = areas.generation
            middle = (cell[0] * AREA_CELL_DEG, cell[1] * AREA_CELL_DEG)
            rows = await area(uow, now, bounding_box(*middle, radius_km + AREA_MARGIN_KM))
            areas.put(cell, now, rows, since)
    return await ranked_page(uow, now, viewer_id, rows, (latitude, longitude), radius_km, page)


def _score(
    going: int,
    heat: float,
    heat_at: float | None,
    capacity: int | None,
    starts_at: float,
    now: float,
    nearness: float = 0.0,
) -> float:
    """`popularity` of a row from `area_query` (times in epoch seconds, as `now`)."""
    speed = 0.0 if heat_at is None else tallies.fade(heat, now - heat_at)
    return popularity(going, speed, capacity, (starts_at - now) / DAY_S, nearness)


def area_query(now: datetime):
    """Upcoming activities with only what the score and the visibility check need: a city's
    box holds a few hundred, and whole rows and views are built for the five shown. Times come
    as epoch seconds, worked out by the database: parsing and subtracting a few hundred
    datetimes cost more than the rest of the scoring (bench/discovery.py)."""
    return (
        select(
            Event.id,
            Event.latitude,
            Event.longitude,
            epoch_seconds(Event.starts_at),
            Event.capacity,
            Event.going,
            Event.heat,
            epoch_seconds(Event.heat_at),
            Event.group_id,
            Group.visibility,
        )
        .join(Group, Group.id == Event.group_id)  # type: ignore[arg-type]
        .where(Event.status == EventStatus.SCHEDULED, Event.starts_at > now)
    )


def _area_statement(ranges: int) -> sa.Select:
    """`area_query` within a box of `ranges` longitude ranges, its bounds left to bind. One
    range is a plain BETWEEN: PostgreSQL reads an OR of two from the table, not the index."""
    within = [
        Event.longitude.between(sa.bindparam(f"west{n}"), sa.bindparam(f"east{n}"))  # type: ignore[union-attr]
        for n in range(ranges)
    ]
    return area_query(sa.bindparam("now")).where(
        Event.latitude.between(sa.bindparam("south"), sa.bindparam("north")),  # type: ignore[union-attr]
        sa.or_(*within),
    )


# Built once: building the statement cost a tenth of a /nearby call.
_AREA = {1: _area_statement(1), 2: _area_statement(2)}


async def area(
    uow: UnitOfWork, now: datetime, box: tuple[float, float, float, float]
) -> list[sa.Row]:
    """`area_query` within a latitude/longitude box, on the box's index."""
    south, north, west, east = box
    ranges = _longitude_ranges(west, east)
    bounds = {"now": now, "south": south, "north": north}
    for n, (range_west, range_east) in enumerate(ranges):
        bounds |= {f"west{n}": range_west, f"east{n}": range_east}
    return await _plain_rows(uow, _AREA[len(ranges)], bounds)


async def _plain_rows(
    uow: UnitOfWork, query: sa.Select, parameters: dict | None = None
) -> list[sa.Row]:
    """A query of columns run on the connection (SQLAlchemy Core): the ORM's per-statement and
    per-row work serves entities, and /nearby reads only columns."""
    return list((await (await uow.session.connection()).execute(query, parameters)).all())


async def ranked_page(
    uow: UnitOfWork,
    now: datetime,
    viewer_id: int,
    rows: list[sa.Row],
    centre: tuple[float, float],
    radius_km: float,
    page: int,
) -> NearbyPage:
    """Keep the rows (from `area_query`) within the radius that the viewer may see, rank them,
    build one page."""
    standing = dict(
        await _plain_rows(
            uow,
            select(Membership.group_id, Membership.status).where(Membership.person_id == viewer_id),
        )
    )
    hidden = {
        group_id
        for group_id, shown in {(row[8], row[9]) for row in rows}
        if not permissions.sees_content(shown, standing.get(group_id))
    }
    now_s, km_from = now.timestamp(), ruler(*centre)
    scored = []
    for event_id, lat, lng, starts_at, capacity, going, heat, heat_at, group_id, _ in rows:
        if starts_at <= now_s or group_id in hidden or lat is None or lng is None:
            continue
        km = km_from(lat, lng)
        if km <= radius_km:
            score = _score(going, heat, heat_at, capacity, starts_at, now_s, 1 - km / radius_km)
            scored.append((-score, starts_at, event_id, km))
    scored.sort()
    pages = max(1, -(-len(scored) // PAGE_SIZE))
    page = min(max(1, page), pages)
    chosen = scored[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    views = {
        view.event.id: view
        for view in await views_of(uow, [event_id for _, _, event_id, _ in chosen], viewer_id)
        if view.event.status == EventStatus.SCHEDULED  # a cached area may predate a cancel
    }
    items = [Nearby(views[i], km, -s) for s, _, i, km in chosen if i in views]
    return NearbyPage(items, page, pages, radius_km)


# ---- personal settings for discovery ------------------------------------------------------


async def set_location(uow: UnitOfWork, person_id: int, latitude: float, longitude: float) -> None:
    person = await uow.session.get(Person, person_id)
    person.latitude, person.longitude = latitude, longitude  # type: ignore[union-attr]
    uow.session.add(person)
    await uow.commit()


MAX_INTERESTS = 10
MAX_INTEREST_LENGTH = 24  # as a group's tag: each word of one is a tag /recommend may meet


def parse_interests(text: str) -> list[str]:
    """'hiking, board games, 🎲' -> ['hiking', 'board games', '🎲']: with commas, each part is
    one interest and keeps its spaces; without, each word is one ('hiking cycling')."""
    parts = text.split(",") if "," in text else text.split()
    interests: list[str] = []
    for part in parts:
        interest = " ".join(part.replace("#", " ").split()).lower()
        if interest and interest not in interests:
            if len(interest) > MAX_INTEREST_LENGTH:
                raise invalid(
                    "interest_too_long",
                    N_("An interest can have at most {limit} characters: “{interest}”."),
                    limit=MAX_INTEREST_LENGTH,
                    interest=interest,
                )
            interests.append(interest)
    if len(interests) > MAX_INTERESTS:
        raise invalid(
            "too_many_interests",
            N_("You can have at most {limit} interests."),
            limit=MAX_INTERESTS,
        )
    return interests


def interest_words(interests: str | None) -> set[str]:
    """The words of a person's interests, which /recommend meets with groups' tags (a tag is
    one word): "board games" meets a group tagged games."""
    return {word for word in re.split(r"[,\s]+", interests or "") if word}


async def set_interests(uow: UnitOfWork, person_id: int, text: str) -> list[str]:
    """What a person likes, for suggestions; 'none' (parsing.NONE_WORDS) or 'clear' clears
    them, rather than becoming an interest of that name."""
    clear = text.strip().lower() in (*NONE_WORDS, "clear")
    tags = [] if clear else parse_interests(text)
    if not clear and not tags:  # "/interests #": nothing left to keep, and not a clear
        raise invalid(
            "no_interests",
            N_("No interest in “{text}”. Write words, such as: /interests hiking, cycling"),
            text=text.strip()[:80],
        )
    person = await uow.session.get(Person, person_id)
    person.interests = ",".join(tags)  # type: ignore[union-attr]
    uow.session.add(person)
    await uow.commit()
    return tags


async def set_discoverable(uow: UnitOfWork, person_id: int, on: bool) -> None:
    person = await uow.session.get(Person, person_id)
    person.discoverable = on  # type: ignore[union-attr]
    uow.session.add(person)
    await uow.commit()


async def dismiss(uow: UnitOfWork, person_id: int, kind: str, item_id: int) -> None:
    if kind not in KINDS or not is_id(item_id):
        raise invalid("bad_dismissal", N_("That can't be dismissed."))
    exists = (
        await uow.session.exec(
            select(Dismissal.id).where(
                Dismissal.person_id == person_id,
                Dismissal.kind == kind,
                Dismissal.item_id == item_id,
            )
        )
    ).first()
    if exists is None:
        uow.session.add(Dismissal(person_id=person_id, kind=kind, item_id=item_id))
        await uow.commit()


# ---- recommendations ----------------------------------------------------------------------


@dataclass(frozen=True)
class GroupPick:
    group: Group
    members: int
    reason: str  # co_members | tags | popular
    shared: int  # co-members, or matching tags


@dataclass(frozen=True)
class Recommendations:
    groups: list[GroupPick]
    posts: list[tuple[Post, Group, str, int, int]]  # post, group, author, likes, replies
    events: list[EventView]
    ask_interests: bool  # they have not said what they like: the card invites them to


async def _dismissed(uow: UnitOfWork, person_id: int) -> dict[str, set[int]]:
    rows = (
        await uow.session.exec(
            select(Dismissal.kind, Dismissal.item_id).where(Dismissal.person_id == person_id)
        )
    ).all()
    found: dict[str, set[int]] = {kind: set() for kind in KINDS}
    for kind, item_id in rows:
        found[kind].add(item_id)
    return found


FELLOWS_PER_GROUP = 100  # co-membership looks at this many recent members of each group
MAX_GROUPS_SAMPLED = 20


async def _recent_fellows(uow: UnitOfWork, viewer_id: int, mine: set[int]) -> set[int]:
    """The most recent members of the viewer's groups: co-membership over a sample. Counting
    over every member of large groups is a self-join of a million rows (seconds, measured in
    bench/discovery.py); recent members say as much about where a group's people also go."""
    fellows: set[int] = set()
    for group_id in sorted(mine)[:MAX_GROUPS_SAMPLED]:
        fellows.update(
            (
                await uow.session.exec(
                    select(Membership.person_id)
                    .where(
                        Membership.group_id == group_id,
                        Membership.status == MembershipStatus.ACTIVE,
                        Membership.person_id != viewer_id,
                    )
                    .order_by(Membership.id.desc())  # type: ignore[union-attr]
                    .limit(FELLOWS_PER_GROUP)
                )
            ).all()
        )
    return fellows


async def recommend(
    uow: UnitOfWork, clock: Clock, viewer_id: int, limit: int = 3
) -> Recommendations:
    """Groups to join (people in your groups also joined…, matching tags), posts to read (hot),
    activities to try; never what you joined, signed up for or dismissed."""
    now = clock.now()
    person = await uow.session.get(Person, viewer_id)
    mine_rows = (
        await uow.session.exec(
            select(Membership.group_id, Membership.status).where(Membership.person_id == viewer_id)
        )
    ).all()
    mine = {g for g, status in mine_rows if status == MembershipStatus.ACTIVE}
    excluded = {g for g, _ in mine_rows} | (dismissed := await _dismissed(uow, viewer_id))["group"]
    stated = interest_words(person.interests) if person else set()
    interests = set(stated)
    scores: dict[int, tuple[float, str, int]] = {}
    if mine:
        fellows = await _recent_fellows(uow, viewer_id, mine)
        rows = (
            await uow.session.exec(
                select(Membership.group_id, func.count())
                .join(Group, Group.id == Membership.group_id)  # type: ignore[arg-type]
                .where(
                    Membership.person_id.in_(fellows),  # type: ignore[attr-defined]
                    Membership.status == MembershipStatus.ACTIVE,
                    # private groups are never suggested: they must not take a place either
                    Group.visibility == Visibility.PUBLIC,
                    Membership.group_id.not_in(excluded),  # type: ignore[attr-defined]
                )
                .group_by(Membership.group_id)
                .order_by(func.count().desc())
                .limit(50)
            )
        ).all()
        for group_id, shared in rows:
            if group_id not in excluded:
                scores[group_id] = (2.0 * math.log1p(shared), "co_members", shared)
        my_tags = (await uow.session.exec(select(Group.tags).where(Group.id.in_(mine)))).all()  # type: ignore[attr-defined]
        interests |= {tag for tags in my_tags for tag in tags.split(",") if tag}
    if interests:
        # at most 10 tags in the query: what the person said they like first, then their
        # groups' tags (a group alone may have 10)
        wanted = sorted(stated) + sorted(interests - stated)
        tag_filter = sa.or_(*(Group.tags.like(f"%{tag}%") for tag in wanted[:10]))  # type: ignore[attr-defined]
        for group_id, tags in (
            await uow.session.exec(
                select(Group.id, Group.tags)
                .where(Group.visibility == Visibility.PUBLIC, tag_filter)
                .limit(500)
            )
        ).all():
            overlap = len(interests & set(tags.split(",")))
            if overlap and group_id not in excluded:
                score, reason, shared = scores.get(group_id, (0.0, "tags", overlap))
                scores[group_id] = (score + 3.0 * overlap, reason, shared)
    if len(scores) < limit:
        for group_id, members in (
            await uow.session.exec(
                select(Group.id, Group.members)
                .where(Group.visibility == Visibility.PUBLIC)
                .order_by(Group.members.desc(), Group.id)  # type: ignore[attr-defined]
                .limit(limit + len(excluded) + len(scores))
            )
        ).all():
            if group_id not in excluded and group_id not in scores:
                scores[group_id] = (0.1 * math.log1p(members), "popular", members)
    top = sorted(scores.items(), key=lambda kv: (-kv[1][0], kv[0]))[:limit]
    group_rows = {
        g.id: g
        for g in (
            await uow.session.exec(
                select(Group).where(
                    Group.id.in_([gid for gid, _ in top]), Group.visibility == Visibility.PUBLIC
                )  # type: ignore[attr-defined]
            )
        ).all()
    }
    picks = [
        GroupPick(group_rows[gid], group_rows[gid].members, reason, shared)
        for gid, (_, reason, shared) in top
        if gid in group_rows
    ]
    source = mine | {p.group.id for p in picks}  # type: ignore[misc]
    posts = await _hot_posts(uow, now, viewer_id, source, dismissed["post"], limit)
    events = await _activities(uow, clock, viewer_id, source, dismissed["event"], limit)
    return Recommendations(picks, posts, events, ask_interests=not stated)


async def _hot_posts(
    uow: UnitOfWork, now: datetime, viewer_id: int, groups: set[int], skip: set[int], limit: int
) -> list[tuple[Post, Group, str, int, int]]:
    """Hot = (likes + 2 x replies + 1) / (age in hours + 2) ^ 1.5, over the last 30 days.
    Ranked over ids and times; whole posts are loaded for the few shown."""
    if not groups:
        return []
    candidates = [
        (post_id, created_at)
        for post_id, created_at in (
            await uow.session.exec(
                select(Post.id, sa.type_coerce(Post.created_at, sa.DateTime()))
                .where(
                    Post.group_id.in_(groups),  # type: ignore[attr-defined]
                    Post.deleted == sa.false(),  # type: ignore[arg-type]
                    Post.author_id != viewer_id,
                    Post.created_at >= now - timedelta(days=30),
                )
                .order_by(Post.created_at.desc())  # type: ignore[attr-defined]
                .limit(200)
            )
        ).all()
        if post_id not in skip
    ]
    if not candidates:
        return []
    likes, replies = await engagement(uow, [post_id for post_id, _ in candidates])
    naive_now = as_stored(now)

    def hot(post_id: int, created_at: datetime) -> float:
        hours = max(0.0, (naive_now - created_at).total_seconds() / 3600)
        return (likes.get(post_id, 0) + 2 * replies.get(post_id, 0) + 1) / (hours + 2) ** 1.5

    chosen = [post_id for post_id, _ in sorted(candidates, key=lambda c: -hot(*c))[:limit]]
    loaded = {
        post.id: (post, group, name)
        for post, group, name in (
            await uow.session.exec(
                select(Post, Group, Person.display_name)
                .join(Group, Group.id == Post.group_id)  # type: ignore[arg-type]
                .join(Person, Person.id == Post.author_id)  # type: ignore[arg-type]
                .where(Post.id.in_(chosen))  # type: ignore[union-attr]
            )
        ).all()
    }
    return [
        (*loaded[post_id], likes.get(post_id, 0), replies.get(post_id, 0)) for post_id in chosen
    ]


async def _activities(
    uow: UnitOfWork, clock: Clock, viewer_id: int, groups: set[int], skip: set[int], limit: int
) -> list[EventView]:
    """The most popular upcoming activities of these groups (the /nearby score without the
    distance term) that the viewer has not signed up for."""
    if not groups:
        return []
    now = clock.now()
    now_s = now.timestamp()
    mine = select(Registration.event_id).where(Registration.person_id == viewer_id)
    scored = []
    for event_id, _, _, starts_at, capacity, going, heat, heat_at, _, _ in (
        await uow.session.exec(
            area_query(now)
            .where(
                Event.group_id.in_(groups),  # type: ignore[attr-defined]
                Event.id.not_in(mine),  # type: ignore[union-attr]
                visible_to(viewer_id),
            )
            .order_by(Event.starts_at)
            .limit(100)
        )
    ).all():
        if event_id not in skip:
            score = _score(going, heat, heat_at, capacity, starts_at, now_s)
            scored.append((-score, starts_at, event_id))
    chosen = [event_id for _, _, event_id in sorted(scored)[:limit]]
    return await views_of(uow, chosen, viewer_id)


# ---- companions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Companion:
    person_id: int
    name: str
    shared_interests: list[str]
    shared_groups: list[str]
    distance_km: float | None


def _require_discoverable(person: Person | None) -> None:
    if person is None or not person.discoverable:
        raise forbidden(
            "companions_opt_in",
            N_(
                "Companions are for people who show themselves too: turn it on with "
                "/settings discoverable on."
            ),
        )


async def blocked_with(uow: UnitOfWork, person_id: int) -> set[int]:
    """Whom this person blocked, and who blocked them."""
    rows = (
        await uow.session.exec(
            select(Block.person_id, Block.blocked_id).where(
                sa.or_(Block.person_id == person_id, Block.blocked_id == person_id)
            )
        )
    ).all()
    return {a if b == person_id else b for a, b in rows}


async def companions(
    uow: UnitOfWork, viewer_id: int, scope: str | None = None, limit: int = 10
) -> list[Companion]:
    """People who opted in to be found, ranked by shared interests, shared groups and
    distance. `scope`: a group (its members) or an activity number (its confirmed people);
    by default, people who share a group with you. Only names and what you share are shown."""
    me = await uow.session.get(Person, viewer_id)
    _require_discoverable(me)
    digits = (scope or "").strip().lstrip("#")
    if scope and digits.isascii() and digits.isdigit() and len(digits) < 16:
        event = await uow.session.get(Event, int(digits)) if is_id(int(digits)) else None
        if event is None:
            raise not_found("event", id=digits)
        group = await uow.session.get(Group, event.group_id)
        permissions.require_content_access(
            group, await membership_of(uow, event.group_id, viewer_id)
        )  # type: ignore[arg-type]
        pool = select(Registration.person_id).where(
            Registration.event_id == event.id, Registration.status == RegistrationStatus.CONFIRMED
        )
    elif scope:
        group = await find_group(uow, scope)
        permissions.require_member(group, await membership_of(uow, group.id, viewer_id))  # type: ignore[arg-type]
        pool = select(Membership.person_id).where(
            Membership.group_id == group.id, Membership.status == MembershipStatus.ACTIVE
        )
    else:
        mine = select(Membership.group_id).where(
            Membership.person_id == viewer_id, Membership.status == MembershipStatus.ACTIVE
        )
        pool = select(Membership.person_id).where(
            Membership.group_id.in_(mine),
            Membership.status == MembershipStatus.ACTIVE,  # type: ignore[attr-defined]
        )
    blocked = await blocked_with(uow, viewer_id)
    people = [
        p
        for p in (
            await uow.session.exec(
                select(Person)
                .where(
                    Person.id.in_(pool),
                    Person.discoverable == sa.true(),
                    Person.id != viewer_id,  # type: ignore[union-attr]
                )
                .limit(500)
            )
        ).all()
        if p.id not in blocked
    ]
    my_groups = dict(
        (
            await uow.session.exec(
                select(Group.id, Group.name)
                .join(Membership, Membership.group_id == Group.id)  # type: ignore[arg-type]
                .where(
                    Membership.person_id == viewer_id, Membership.status == MembershipStatus.ACTIVE
                )
            )
        ).all()
    )
    their_groups: dict[int, list[str]] = {}
    if people and my_groups:
        for person_id, group_id in (
            await uow.session.exec(
                select(Membership.person_id, Membership.group_id).where(
                    Membership.person_id.in_([p.id for p in people]),  # type: ignore[attr-defined]
                    Membership.group_id.in_(list(my_groups)),  # type: ignore[attr-defined]
                    Membership.status == MembershipStatus.ACTIVE,
                )
            )
        ).all():
            their_groups.setdefault(person_id, []).append(my_groups[group_id])
    mine_interests = set(filter(None, me.interests.split(",")))  # type: ignore[union-attr]
    found = []
    for p in people:
        shared = sorted(mine_interests & set(p.interests.split(",")))
        km = (
            distance_km(me.latitude, me.longitude, p.latitude, p.longitude)  # type: ignore[union-attr, arg-type]
            if None not in (me.latitude, me.longitude, p.latitude, p.longitude)  # type: ignore[union-attr]
            else None
        )
        groups_shared = sorted(their_groups.get(p.id, []))  # type: ignore[arg-type]
        near = 0.0 if km is None else max(0.0, 1 - km / 50)
        score = 2.0 * len(shared) + 1.0 * len(groups_shared) + 1.0 * near
        found.append((score, Companion(p.id, p.display_name, shared, groups_shared, km)))  # type: ignore[arg-type]
    found.sort(key=lambda item: (-item[0], item[1].name.lower()))
    return [companion for _, companion in found[:limit]]


async def _in_common(uow: UnitOfWork, viewer_id: int, other_id: int) -> bool:
    """Whether /companions could list `other` to the viewer at all: they share a group, or
    `other` has a seat on an activity the viewer may see."""
    mine = select(Membership.group_id).where(
        Membership.person_id == viewer_id, Membership.status == MembershipStatus.ACTIVE
    )
    shared_group = (
        await uow.session.exec(
            select(Membership.id)
            .where(
                Membership.person_id == other_id,
                Membership.status == MembershipStatus.ACTIVE,
                Membership.group_id.in_(mine),  # type: ignore[attr-defined]
            )
            .limit(1)
        )
    ).first()
    if shared_group is not None:
        return True
    shared_activity = (
        await uow.session.exec(
            select(Registration.id)
            .join(Event, Event.id == Registration.event_id)  # type: ignore[arg-type]
            .join(Group, Group.id == Event.group_id)  # type: ignore[arg-type]
            .where(
                Registration.person_id == other_id,
                Registration.status == RegistrationStatus.CONFIRMED,
                visible_to(viewer_id),
            )
            .limit(1)
        )
    ).first()
    return shared_activity is not None


async def say_hi(uow: UnitOfWork, clock: Clock, from_id: int, to_id: int) -> Hello:
    """Ask to connect. Both must have opted in; a block in either direction stops it; and, as
    the button can be forged, only someone /companions could have shown can be greeted. The
    person greeted is asked by the notice worker (core.hello_news), durably."""
    me = await uow.session.get(Person, from_id)
    them = await uow.session.get(Person, to_id) if is_id(to_id) else None
    _require_discoverable(me)
    if (
        from_id == to_id
        or them is None
        or not them.discoverable
        or to_id in await blocked_with(uow, from_id)
        or not await _in_common(uow, from_id, to_id)
    ):
        raise not_found("person", name="?")
    hello = (
        await uow.session.exec(
            select(Hello).where(Hello.from_person == from_id, Hello.to_person == to_id)
        )
    ).first()
    if hello is not None:
        raise conflict("hello_sent", N_("You already said hi to {name}."), name=them.display_name)
    theirs = (
        await uow.session.exec(
            select(Hello.status).where(Hello.from_person == to_id, Hello.to_person == from_id)
        )
    ).first()
    if theirs == HelloStatus.ACCEPTED:  # greeting back would ask them again what they agreed
        raise conflict(
            "hello_connected",
            N_("You and {name} are already connected: you have each other's handles."),
            name=them.display_name,
        )
    if theirs == HelloStatus.PENDING:
        raise conflict(
            "hello_waiting",
            N_("{name} already said hi to you: accept theirs to connect."),
            name=them.display_name,
        )
    hello = Hello(from_person=from_id, to_person=to_id, created_at=clock.now())
    uow.session.add(hello)
    await uow.session.flush()
    await work.schedule(uow, HELLO, f"{hello.id}:{HI_ASKED}", work.AT_ONCE)
    await uow.commit()
    return hello


async def answer_hi(
    uow: UnitOfWork, actor_id: int, hello_id: int, accept: bool
) -> tuple[Hello, Person, Person]:
    """Only the person greeted answers; only on acceptance are handles exchanged (the sender
    gets the receiver's from the notice worker, core.hello_news)."""
    hello = await uow.session.get(Hello, hello_id) if is_id(hello_id) else None
    if hello is None or hello.to_person != actor_id:
        raise not_found("request")
    if hello.status != HelloStatus.PENDING:
        raise conflict("hello_answered", N_("You already answered that."))
    hello.status = HelloStatus.ACCEPTED if accept else HelloStatus.DECLINED
    uow.session.add(hello)
    if accept:
        await work.schedule(uow, HELLO, f"{hello.id}:{HI_ACCEPTED}", work.AT_ONCE)
    sender, receiver = (
        await uow.session.get(Person, hello.from_person),
        await uow.session.get(Person, hello.to_person),
    )
    await uow.commit()
    return hello, sender, receiver  # type: ignore[return-value]


async def handles(uow: UnitOfWork, person_id: int) -> list[tuple[str, str]]:
    """(platform, handle) pairs a person can be reached at: shown only after an accepted hi."""
    rows = (
        await uow.session.exec(
            select(Identity.platform, Identity.username, Identity.external_id).where(
                Identity.person_id == person_id
            )
        )
    ).all()
    return [(platform, f"@{name}" if name else external) for platform, name, external in rows]


async def _require_other(uow: UnitOfWork, actor_id: int, other_id: int) -> None:
    if actor_id == other_id:
        raise invalid("block_self", N_("You can't block yourself."))
    if not is_id(other_id) or await uow.session.get(Person, other_id) is None:
        raise not_found("person", name="?")


async def blocked_by(uow: UnitOfWork, actor_id: int) -> list[Person]:
    """The people this person blocked, by name: what /blocked lists, to undo."""
    rows = await uow.session.exec(
        select(Person)
        .join(Block, Block.blocked_id == Person.id)  # type: ignore[arg-type]
        .where(Block.person_id == actor_id)
        .order_by(Person.display_name, Person.id)
    )
    return list(rows.all())


async def unblock(uow: UnitOfWork, actor_id: int, other_id: int) -> Person:
    """Undo a block of one's own (the other person's block of them, if any, stays)."""
    if not is_id(other_id):  # a forged payload: no such row, and no integer overflow
        raise conflict("not_blocked", N_("You haven't blocked that person."))
    found = (
        await uow.session.exec(
            select(Block).where(Block.person_id == actor_id, Block.blocked_id == other_id)
        )
    ).first()
    person = await uow.session.get(Person, other_id)
    if found is None or person is None:
        raise conflict("not_blocked", N_("You haven't blocked that person."))
    await uow.session.delete(found)
    await uow.commit()
    return person


async def block(uow: UnitOfWork, actor_id: int, other_id: int) -> None:
    await _require_other(uow, actor_id, other_id)
    exists = (
        await uow.session.exec(
            select(Block.id).where(Block.person_id == actor_id, Block.blocked_id == other_id)
        )
    ).first()
    if exists is None:
        uow.session.add(Block(person_id=actor_id, blocked_id=other_id))
    for hello in (
        await uow.session.exec(
            select(Hello).where(
                Hello.status == HelloStatus.PENDING,
                sa.or_(
                    sa.and_(Hello.from_person == other_id, Hello.to_person == actor_id),
                    sa.and_(Hello.from_person == actor_id, Hello.to_person == other_id),
                ),
            )
        )
    ).all():
        hello.status = HelloStatus.DECLINED
        uow.session.add(hello)
    await uow.commit()
